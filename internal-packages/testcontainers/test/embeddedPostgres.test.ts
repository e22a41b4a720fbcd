import { chmod, cp, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { expect, test } from "vitest";
import { binariesPackageDir, heteroVersionPostgresTest, startEmbeddedPostgres } from "../src/index.js";

async function serverVersionNum(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return Number((await client.query<{ v: string }>("SELECT current_setting('server_version_num') AS v")).rows[0].v);
  } finally {
    await client.end();
  }
}

async function tables(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ t: string }>(
      `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`
    );
    return rows.map((r) => r.t);
  } finally {
    await client.end();
  }
}

heteroVersionPostgresTest(
  "the run-ops database runs on another Postgres major version, migrated with the run-ops schema",
  async ({ databaseUrl, runOpsDatabaseUrl, runOpsServer }) => {
    const controlPlaneMajor = Math.floor((await serverVersionNum(databaseUrl)) / 10_000);
    const runOpsMajor = Math.floor((await serverVersionNum(runOpsDatabaseUrl)) / 10_000);
    expect(runOpsMajor).toBe(17);
    expect(runOpsMajor).not.toBe(controlPlaneMajor);
    expect(runOpsServer.serverVersion.startsWith("17.")).toBe(true);
    const runOpsTables = await tables(runOpsDatabaseUrl);
    expect(runOpsTables).toEqual(expect.arrayContaining(["TaskRun", "TaskRunExecutionSnapshot", "Waitpoint", "TaskRunWaitpoint", "BatchTaskRun"]));
    expect(runOpsTables).not.toContain("RuntimeEnvironment");
    expect(await tables(databaseUrl)).toContain("RuntimeEnvironment");
  },
  60_000
);

// As root the server runs as `postgres`, which cannot enter a private checkout (e.g. one under `mktemp -d`).
test.skipIf(process.getuid?.() !== 0)(
  "starts when the binaries are installed under a directory the postgres user cannot enter",
  async () => {
    const privateDir = await mkdtemp(path.join(os.tmpdir(), "runplane-private-checkout-"));
    try {
      await chmod(privateDir, 0o700);
      const packageDir = path.join(privateDir, "linux-x64");
      await cp(binariesPackageDir(), packageDir, { recursive: true, verbatimSymlinks: true });
      const server = await startEmbeddedPostgres({ packageDir });
      try {
        expect(server.serverVersion.startsWith("17.")).toBe(true);
        expect(Math.floor((await serverVersionNum(server.url)) / 10_000)).toBe(17);
      } finally {
        await server.stop();
      }
    } finally {
      await rm(privateDir, { recursive: true, force: true });
    }
  },
  120_000
);
