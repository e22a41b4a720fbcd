import { MIGRATIONS_DIRS, migrateDatabase, type SchemaName } from "@internal/database/migrate";

/** True when a Docker engine answers (never on the project's own machines; people may have one). */
export async function dockerAvailable(): Promise<boolean> {
  try {
    const { execFileSync } = await import("node:child_process");
    execFileSync("docker", ["info"], { stdio: "ignore", timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

/** Used only with TEST_USE_TESTCONTAINERS=1 and a Docker engine: a throwaway Postgres container. */
export async function startPostgresContainer(schema: SchemaName): Promise<{ url: string; stop: () => Promise<void> }> {
  const moduleName = "@testcontainers/postgresql";
  const { PostgreSqlContainer } = (await import(/* @vite-ignore */ moduleName)) as {
    PostgreSqlContainer: new (image: string) => { start(): Promise<{ getConnectionUri(): string; stop(): Promise<unknown> }> };
  };
  const container = await new PostgreSqlContainer("postgres:15").start();
  const url = container.getConnectionUri();
  await migrateDatabase(url, MIGRATIONS_DIRS[schema]);
  return { url, stop: async () => void (await container.stop()) };
}
