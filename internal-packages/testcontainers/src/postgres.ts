import { createHash, randomBytes } from "node:crypto";
import pg from "pg";
import { MIGRATIONS_DIRS, migrateDatabase, readMigrations, type SchemaName } from "@internal/database/migrate";
import { TEST_DATABASE_URL, databaseUrl } from "./config.js";

const templates = new Map<string, Promise<string>>();
const TEMPLATE_LOCK_KEY = 72_707_370;

async function withAdmin<T>(baseUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl(baseUrl, "postgres") });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * A migrated template per schema and migration content (name carries a hash, so a changed migration
 * gets a fresh template). Built once per machine under an advisory lock; tests clone it.
 */
async function templateFor(schema: SchemaName, baseUrl: string): Promise<string> {
  const migrations = await readMigrations(MIGRATIONS_DIRS[schema]);
  const hash = createHash("sha256")
    .update(migrations.map((m) => m.name + m.checksum).join("|"))
    .digest("hex")
    .slice(0, 12);
  const name = `runplane_tpl_${schema.replace("-", "_")}_${hash}`;
  await withAdmin(baseUrl, async (admin) => {
    await admin.query("SELECT pg_advisory_lock($1)", [TEMPLATE_LOCK_KEY]);
    try {
      const exists = await admin.query("SELECT datistemplate FROM pg_database WHERE datname = $1", [name]);
      if (exists.rows[0]?.datistemplate) return;
      if (exists.rowCount) await admin.query(`DROP DATABASE "${name}" WITH (FORCE)`);
      await migrateDatabase(databaseUrl(baseUrl, name), MIGRATIONS_DIRS[schema]);
      await admin.query(`ALTER DATABASE "${name}" WITH IS_TEMPLATE true`);
    } finally {
      await admin.query("SELECT pg_advisory_unlock($1)", [TEMPLATE_LOCK_KEY]);
    }
  });
  return name;
}

function cachedTemplate(schema: SchemaName, baseUrl: string): Promise<string> {
  const key = `${schema}@${baseUrl}`;
  let template = templates.get(key);
  if (!template) {
    template = templateFor(schema, baseUrl);
    templates.set(key, template);
  }
  return template;
}

export type TestDatabase = { url: string; name: string; drop: () => Promise<void> };

/** A fresh, migrated database cloned from the schema's template. `drop()` removes it. */
export async function createTestDatabase(schema: SchemaName, baseUrl = TEST_DATABASE_URL): Promise<TestDatabase> {
  const template = await cachedTemplate(schema, baseUrl);
  const name = `runplane_test_${schema.replace("-", "_")}_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
  await withAdmin(baseUrl, (admin) => admin.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`));
  return {
    name,
    url: databaseUrl(baseUrl, name),
    drop: () => withAdmin(baseUrl, (admin) => admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => {}),
  };
}
