import { randomBytes } from "node:crypto";
import { cp, mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { describe, expect, it, onTestFinished } from "vitest";
import { MIGRATIONS_DIRS, ensureDatabaseExists, migrateDatabase, readMigrations } from "../src/migrate/index.js";
import { TEST_DATABASE_URL } from "./fixtures.js";

/** The URL of a database that does not exist yet (migrateDatabase creates it); dropped after the test. */
function newDatabaseUrl(): string {
  const name = `runplane_migrate_${randomBytes(5).toString("hex")}`;
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  onTestFinished(async () => {
    const admin = new URL(TEST_DATABASE_URL);
    admin.pathname = "/postgres";
    await query(admin.toString(), `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  });
  return url.toString();
}

async function query<R extends pg.QueryResultRow>(databaseUrl: string, sql: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query<R>(sql)).rows;
  } finally {
    await client.end();
  }
}

async function tempMigrations(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "migrations-"));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  for (const [name, sql] of Object.entries(files)) {
    await mkdir(path.join(dir, name));
    await writeFile(path.join(dir, name, "migration.sql"), sql);
  }
  return dir;
}

describe("migrateDatabase", () => {
  it("creates the database, applies every migration once and records each with its checksum", async () => {
    const url = newDatabaseUrl();
    const migrations = await readMigrations(MIGRATIONS_DIRS["control-plane"]);

    const first = await migrateDatabase(url, MIGRATIONS_DIRS["control-plane"]);
    expect(first.applied).toEqual(migrations.map((m) => m.name));
    expect(first.alreadyApplied).toEqual([]);

    const second = await migrateDatabase(url, MIGRATIONS_DIRS["control-plane"]);
    expect(second.applied).toEqual([]);
    expect(second.alreadyApplied).toEqual(migrations.map((m) => m.name));

    const recorded = await query<{ migration_name: string; checksum: string; finished_at: Date | null }>(
      url,
      `SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" ORDER BY migration_name`
    );
    expect(recorded.map((r) => [r.migration_name, r.checksum])).toEqual(migrations.map((m) => [m.name, m.checksum]));
    expect(recorded.every((r) => r.finished_at instanceof Date && /^[0-9a-f]{64}$/.test(r.checksum))).toBe(true);
  });

  it("the run-ops folder migrates a database of its own with only the run tables and what lives beside runs", async () => {
    const url = newDatabaseUrl();
    await migrateDatabase(url, MIGRATIONS_DIRS["run-ops"]);
    const tables = await query<{ table_name: string }>(
      url,
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`
    );
    // beside the runs: offloaded packets (PacketChunk) and trace events (RunLog, RunSpan), so they follow the split
    expect(tables.map((t) => t.table_name)).toEqual([
      "BatchTaskRun", "BatchTaskRunError", "PacketChunk", "RunLog", "RunSpan", "TaskRun", "TaskRunExecutionSnapshot", "TaskRunWaitpoint", "Waitpoint", "_prisma_migrations",
    ]);
  });

  it("refuses to continue when an applied migration was changed, naming it", async () => {
    const url = newDatabaseUrl();
    const dir = await tempMigrations({
      "001_first": `CREATE TABLE "A" (id TEXT PRIMARY KEY);`,
      "002_second": `CREATE TABLE "B" (id TEXT PRIMARY KEY);`,
    });
    await migrateDatabase(url, dir);
    await writeFile(path.join(dir, "001_first", "migration.sql"), `CREATE TABLE "A" (id TEXT PRIMARY KEY, note TEXT);`);
    await mkdir(path.join(dir, "003_third"));
    await writeFile(path.join(dir, "003_third", "migration.sql"), `CREATE TABLE "C" (id TEXT PRIMARY KEY);`);

    await expect(migrateDatabase(url, dir)).rejects.toThrow("Migration 001_first was changed after it was applied");
    // Nothing after the refusal ran.
    expect(await query(url, `SELECT 1 FROM information_schema.tables WHERE table_name = 'C'`)).toEqual([]);
  });

  it("a failing migration is rolled back, not recorded, and the error names it", async () => {
    const url = newDatabaseUrl();
    const dir = await tempMigrations({
      "001_ok": `CREATE TABLE "A" (id TEXT PRIMARY KEY);`,
      "002_broken": `CREATE TABLE "B" (id TEXT PRIMARY KEY); INSERT INTO "Missing" VALUES (1);`,
    });
    await expect(migrateDatabase(url, dir)).rejects.toThrow(/Migration 002_broken failed: .*"Missing"/);
    const recorded = await query<{ migration_name: string }>(url, `SELECT migration_name FROM "_prisma_migrations"`);
    expect(recorded.map((r) => r.migration_name)).toEqual(["001_ok"]);
    expect(await query(url, `SELECT 1 FROM information_schema.tables WHERE table_name = 'B'`)).toEqual([]);
  });

  it("two processes migrating the same database at once apply each migration exactly once", async () => {
    const url = newDatabaseUrl();
    // The database exists, as when two webapp instances boot against it.
    await ensureDatabaseExists(url);
    const dir = await mkdtemp(path.join(tmpdir(), "migrations-"));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    await cp(MIGRATIONS_DIRS["control-plane"], dir, { recursive: true });

    const [a, b] = await Promise.all([migrateDatabase(url, dir), migrateDatabase(url, dir)]);
    const names = (await readMigrations(dir)).map((m) => m.name);
    expect([...a.applied, ...b.applied].sort()).toEqual(names);
    const recorded = await query<{ n: number }>(url, `SELECT count(*)::int AS n FROM "_prisma_migrations"`);
    expect(recorded[0].n).toBe(names.length);
  });
});
