// Usage: tsx src/migrate/cli.ts <control-plane|run-ops> [databaseUrl]
import { MIGRATIONS_DIRS, migrateDatabase, type SchemaName } from "./index.js";

const schema = process.argv[2] as SchemaName;
if (!(schema in MIGRATIONS_DIRS)) {
  console.error(`usage: migrate <${Object.keys(MIGRATIONS_DIRS).join("|")}> [databaseUrl]`);
  process.exit(2);
}
const url =
  process.argv[3] ?? (schema === "run-ops" ? process.env.RUN_OPS_DATABASE_URL : process.env.DATABASE_URL);
if (!url) {
  console.error(schema === "run-ops" ? "RUN_OPS_DATABASE_URL is not set" : "DATABASE_URL is not set");
  process.exit(2);
}
try {
  const result = await migrateDatabase(url, MIGRATIONS_DIRS[schema]);
  console.log(
    `${schema} (${result.database}): applied ${result.applied.length} [${result.applied.join(", ")}], ` +
      `${result.alreadyApplied.length} already applied`
  );
} catch (error) {
  console.error(`${schema} migration failed: ${(error as Error).message}`);
  process.exit(1);
}
