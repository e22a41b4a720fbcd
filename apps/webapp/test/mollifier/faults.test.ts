import pg from "pg";
import { MollifierDrainer } from "@runplane/redis-worker/mollifier";
import { TEST_DATABASE_URL } from "@internal/testcontainers";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { createDrainerHandler, createTerminalFailureHandler } from "~/v3/mollifier/drainerHandler.server";
import { isRetryableReplayError } from "~/v3/mollifier/drainerHandler.server";
import { mollifyTrigger } from "~/v3/mollifier/mollify.server";
import { setupHarness, type Harness } from "./harness";

let h: Harness;
beforeEach(async () => {
  h = await setupHarness();
});
afterEach(async () => {
  await h?.close();
});

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = "/postgres";
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function setDatabaseReachable(name: string, reachable: boolean) {
  await admin(async (c) => {
    await c.query(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS ${reachable ? "true" : "false"}`);
    if (!reachable) await c.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [name]);
  });
}

describe("faults", () => {
  test("Postgres unreachable for ~5 s mid-drain: entries requeue and all land afterwards, once", async () => {
    const N = 300;
    const ids: string[] = [];
    for (let i = 0; i < N; i++) {
      ids.push((await mollifyTrigger({ buffer: h.mollifier.buffer, mintKind: "LEGACY", logger: h.logger }, { trigger: h.trigger() })).id);
    }
    const deps = { engine: h.engine, runStore: h.store, logger: h.logger };
    const drainer = new MollifierDrainer({
      buffer: h.mollifier.buffer,
      handler: createDrainerHandler(deps),
      onTerminalFailure: createTerminalFailureHandler(deps),
      isRetryable: isRetryableReplayError,
      concurrency: 10,
      batchSize: 20,
      maxAttempts: 3,
      logger: h.logger,
    });
    drainer.start();
    // let part of it land, then cut Postgres off
    const deadline = Date.now() + 20_000;
    while ((await h.countRuns()) < 30 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await setDatabaseReachable(h.db.name, false);
    await new Promise((r) => setTimeout(r, 5_000));
    await setDatabaseReachable(h.db.name, true);

    const end = Date.now() + 60_000;
    while ((await h.mollifier.buffer.getDepth()) > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
    await drainer.stop({ deadlineMs: 5_000 });
    expect(await h.mollifier.buffer.getDepth()).toBe(0);
    const rows = await h.store.allClients()[0]!.taskRun.findMany({ select: { friendlyId: true, status: true } });
    expect(rows).toHaveLength(N);
    expect(new Set(rows.map((r) => r.friendlyId))).toEqual(new Set(ids));
    expect(rows.filter((r) => r.status !== "PENDING")).toEqual([]);
    expect(h.logger.lines.some((l) => l.message.includes("requeued"))).toBe(true);
  }, 120_000);

  test("a drainer that dies mid-drain: its leases expire, another instance replays, every run lands exactly once", async () => {
    const N = 100;
    const ids: string[] = [];
    for (let i = 0; i < N; i++) {
      ids.push((await mollifyTrigger({ buffer: h.mollifier.buffer, mintKind: "LEGACY", logger: h.logger }, { trigger: h.trigger() })).id);
    }
    const deps = { engine: h.engine, runStore: h.store, logger: h.logger };
    const replay = createDrainerHandler(deps);
    // instance A: replays some entries, then "dies" (its handlers never return: no DRAINED, no ack)
    let aReplays = 0;
    const dying = new MollifierDrainer({
      buffer: h.mollifier.buffer,
      handler: async (entry) => {
        aReplays += 1;
        if (aReplays % 2 === 0) await replay(entry); // half had reached Postgres before the crash
        await new Promise(() => {});
      },
      concurrency: 10,
      batchSize: 10,
      leaseMs: 1_000,
    });
    void dying.runOnce();
    await new Promise((r) => setTimeout(r, 300));
    expect(aReplays).toBe(10);
    // instance B takes over
    const survivor = new MollifierDrainer({
      buffer: h.mollifier.buffer,
      handler: replay,
      onTerminalFailure: createTerminalFailureHandler(deps),
      isRetryable: isRetryableReplayError,
      concurrency: 10,
      batchSize: 20,
      leaseMs: 1_000,
      reclaimIntervalMs: 200,
    });
    survivor.start();
    const end = Date.now() + 30_000;
    while ((await h.mollifier.buffer.getDepth()) > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    await survivor.stop({ deadlineMs: 5_000 });
    const rows = await h.store.allClients()[0]!.taskRun.findMany({ select: { friendlyId: true, status: true } });
    expect(rows).toHaveLength(N);
    expect(new Set(rows.map((r) => r.friendlyId))).toEqual(new Set(ids));
    expect(rows.filter((r) => r.status !== "PENDING")).toEqual([]);
  }, 60_000);
});
