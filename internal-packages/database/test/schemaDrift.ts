import pg from "pg";
import type { PrismaSchema } from "./prismaSchema.js";

type ColumnRow = {
  table_name: string;
  column_name: string;
  data_type: string;
  udt_name: string;
  is_nullable: "YES" | "NO";
  column_default: string | null;
};

/**
 * Differences between a Prisma schema and a live database that would break the client at runtime:
 * a table, column or enum value the schema expects but the database lacks, a list/scalar or enum-type
 * mismatch, and a required column without default that the client cannot fill. One line per problem.
 */
export async function findSchemaDrift(schema: PrismaSchema, databaseUrl: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const columns = await client.query<ColumnRow>(
      `SELECT table_name, column_name, data_type, udt_name, is_nullable, column_default
       FROM information_schema.columns WHERE table_schema = current_schema()`
    );
    const enumValues = await client.query<{ enum_name: string; value: string }>(
      `SELECT t.typname AS enum_name, e.enumlabel AS value
       FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid JOIN pg_namespace n ON n.oid = t.typnamespace
       WHERE n.nspname = current_schema()`
    );
    return [...modelProblems(schema, columns.rows), ...enumProblems(schema, enumValues.rows)];
  } finally {
    await client.end();
  }
}

function modelProblems(schema: PrismaSchema, rows: ColumnRow[]): string[] {
  const tables = new Map<string, Map<string, ColumnRow>>();
  for (const row of rows) {
    if (!tables.has(row.table_name)) tables.set(row.table_name, new Map());
    tables.get(row.table_name)!.set(row.column_name, row);
  }
  const enumDbNames = new Map(schema.enums.map((e) => [e.name, e.dbName]));
  const problems: string[] = [];
  for (const model of schema.models) {
    const table = tables.get(model.table);
    if (!table) {
      problems.push(`${model.name}: table "${model.table}" does not exist`);
      continue;
    }
    for (const field of model.fields) {
      const column = table.get(field.column);
      const label = `${model.name}.${field.name}`;
      if (!column) {
        problems.push(`${label}: no column "${field.column}" in table "${model.table}"`);
        continue;
      }
      if (field.list !== (column.data_type === "ARRAY")) {
        problems.push(`${label}: schema says ${field.list ? "list" : "single value"}, column is ${column.data_type}`);
      }
      if (field.kind === "enum") {
        const expected = (field.list ? "_" : "") + enumDbNames.get(field.type);
        if (column.udt_name !== expected) problems.push(`${label}: column type is ${column.udt_name}, expected enum ${expected}`);
      }
    }
    const known = new Set(model.fields.map((f) => f.column));
    for (const [name, column] of table) {
      if (!known.has(name) && column.is_nullable === "NO" && column.column_default === null) {
        problems.push(`${model.name}: required column "${name}" without default is unknown to the schema`);
      }
    }
  }
  return problems;
}

function enumProblems(schema: PrismaSchema, rows: { enum_name: string; value: string }[]): string[] {
  const present = new Set(rows.map((r) => `${r.enum_name}\u0000${r.value}`));
  const types = new Set(rows.map((r) => r.enum_name));
  const problems: string[] = [];
  for (const e of schema.enums) {
    if (!types.has(e.dbName)) {
      problems.push(`enum ${e.name}: type "${e.dbName}" does not exist`);
      continue;
    }
    for (const value of e.values) {
      if (!present.has(`${e.dbName}\u0000${value}`)) problems.push(`enum ${e.name}: value "${value}" missing from pg_enum`);
    }
  }
  return problems;
}
