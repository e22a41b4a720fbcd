import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { Prisma } from "../src/generated/prisma/client.js";
import * as generatedEnums from "../src/generated/prisma/enums.js";
import { heteroPostgresTest, postgresTest } from "./fixtures.js";
import { parsePrismaSchema, readPrismaSchema, type PrismaSchema } from "./prismaSchema.js";
import { findSchemaDrift } from "./schemaDrift.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const CONTROL_PLANE_SCHEMA = path.resolve(here, "../prisma/schema");
const RUN_OPS_SCHEMA = path.resolve(here, "../../run-ops-database/prisma/schema");
const RUN_TABLES = ["TaskRun", "TaskRunExecutionSnapshot", "Waitpoint", "TaskRunWaitpoint", "BatchTaskRun", "BatchTaskRunError", "PacketChunk"];

async function sql(databaseUrl: string, statement: string) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

describe("schema reader", () => {
  it("reads the same models, scalar fields and enums as the generated client", async () => {
    const schema = await readPrismaSchema(CONTROL_PLANE_SCHEMA);
    expect(schema.models.map((m) => m.name).sort()).toEqual(Object.values(Prisma.ModelName).sort());
    const scalarFieldEnums = Prisma as unknown as Record<string, Record<string, string>>;
    for (const model of schema.models) {
      expect(model.fields.map((f) => f.name).sort(), model.name).toEqual(
        Object.values(scalarFieldEnums[`${model.name}ScalarFieldEnum`]).sort()
      );
    }
    const enums = generatedEnums as unknown as Record<string, Record<string, string>>;
    expect(schema.enums.map((e) => e.name).sort()).toEqual(Object.keys(enums).sort());
    for (const e of schema.enums) expect(e.values, e.name).toEqual(Object.values(enums[e.name]));
  });

  it("the run-ops schema holds exactly the run tables", async () => {
    const schema = await readPrismaSchema(RUN_OPS_SCHEMA);
    expect(schema.models.map((m) => m.name).sort()).toEqual([...RUN_TABLES].sort());
  });

  it("refuses a line it does not understand instead of skipping it", () => {
    const source = 'model A {\n  id String @id\n  weird = "x"\n}\n';
    expect(() => parsePrismaSchema([{ name: "a.prisma", source }])).toThrow(/a\.prisma:3: unrecognised field line/);
  });

  it("honours @map and @@map", () => {
    const source = [
      'enum Color {\n  RED @map("red")\n  @@map("colour")\n}',
      'model Paint {\n  id String @id\n  hue Color[] @map("hues")\n  @@map("paints")\n}',
    ].join("\n");
    const schema = parsePrismaSchema([{ name: "p.prisma", source }]);
    expect(schema.enums).toEqual([{ name: "Color", dbName: "colour", values: ["red"] }]);
    expect(schema.models[0]).toMatchObject({
      table: "paints",
      fields: [{ name: "id" }, { name: "hue", column: "hues", kind: "enum", list: true }],
    });
  });
});

describe("schema drift against migrated databases", () => {
  postgresTest("the control-plane database has every column and enum value of its schema", async ({ databaseUrl }) => {
    const schema = await readPrismaSchema(CONTROL_PLANE_SCHEMA);
    expect(await findSchemaDrift(schema, databaseUrl)).toEqual([]);
  });

  heteroPostgresTest("the run-ops database has every column and enum value of its schema", async ({ runOpsDatabaseUrl }) => {
    const schema = await readPrismaSchema(RUN_OPS_SCHEMA);
    expect(await findSchemaDrift(schema, runOpsDatabaseUrl)).toEqual([]);
  });

  postgresTest("a field or enum value the database lacks is reported by name", async ({ databaseUrl }) => {
    const schema = await readPrismaSchema(CONTROL_PLANE_SCHEMA);
    const withExtras: PrismaSchema = {
      models: schema.models.map((m) =>
        m.name === "TaskRun"
          ? { ...m, fields: [...m.fields, { name: "forgotten", column: "forgotten", type: "String", kind: "scalar", list: false, optional: true }] }
          : m
      ),
      enums: schema.enums.map((e) => (e.name === "WaitpointType" ? { ...e, values: [...e.values, "SIGNAL"] } : e)),
    };
    expect(await findSchemaDrift(withExtras, databaseUrl)).toEqual([
      'TaskRun.forgotten: no column "forgotten" in table "TaskRun"',
      'enum WaitpointType: value "SIGNAL" missing from pg_enum',
    ]);
  });

  heteroPostgresTest("a migration that lost a column, an enum value or changed a list is caught", async ({ runOpsDatabaseUrl }) => {
    await sql(
      runOpsDatabaseUrl,
      `ALTER TABLE "TaskRun" DROP COLUMN "annotations";
       ALTER TYPE "WaitpointStatus" RENAME VALUE 'COMPLETED' TO 'DONE';
       ALTER TABLE "Waitpoint" ALTER COLUMN "tags" TYPE TEXT USING array_to_string("tags", ',');
       ALTER TABLE "BatchTaskRun" ADD COLUMN "shard" TEXT NOT NULL`
    );
    const schema = await readPrismaSchema(RUN_OPS_SCHEMA);
    expect((await findSchemaDrift(schema, runOpsDatabaseUrl)).sort()).toEqual(
      [
        'TaskRun.annotations: no column "annotations" in table "TaskRun"',
        "Waitpoint.tags: schema says list, column is text",
        'BatchTaskRun: required column "shard" without default is unknown to the schema',
        'enum WaitpointStatus: value "COMPLETED" missing from pg_enum',
      ].sort()
    );
  });
});
