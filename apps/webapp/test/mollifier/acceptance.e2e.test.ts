import pg from "pg";
import { describe, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../support/testServer";

/**
 * The acceptance, against real production servers: a burst into one environment with
 * MOLLIFIER_TRIP_THRESHOLD=5 is answered in full, each id is readable at once, and after the drain
 * exactly N rows exist; mutations while buffered land on the rows; a SIGKILL mid-drain loses nothing.
 */
const N = Number(process.env.MOLLIFIER_ACCEPTANCE_N ?? 2000);
const BURST_ENV = { MOLLIFIER_TRIP_THRESHOLD: "5", API_RATE_LIMIT_ENABLED: "false", DATABASE_POOL_SIZE: "10" };

async function api(server: TestServer, method: string, path: string, body?: unknown) {
  const response = await fetch(`${server.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${server.devSecretKey}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, any>) : {} };
}

async function burst(server: TestServer, n: number, concurrency = 100, options: Record<string, unknown> = {}): Promise<string[]> {
  const ids: string[] = new Array(n);
  let next = 0;
  const statuses: number[] = [];
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        const { status, body } = await api(server, "POST", "/api/v1/tasks/hello/trigger", { payload: { i }, options });
        statuses.push(status);
        ids[i] = body.id;
      }
    })
  );
  expect(statuses.filter((s) => s !== 200)).toEqual([]);
  return ids;
}

async function rows(server: TestServer): Promise<Array<{ friendlyId: string; status: string; runTags: string[]; metadata: string | null; delayUntil: Date | null }>> {
  const client = new pg.Client({ connectionString: server.databaseUrl });
  await client.connect();
  try {
    const result = await client.query('SELECT "friendlyId", status, "runTags", metadata, "delayUntil" FROM "TaskRun"');
    return result.rows;
  } finally {
    await client.end();
  }
}

async function waitForRows(server: TestServer, n: number, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  let count = 0;
  while (Date.now() < deadline) {
    count = (await rows(server)).length;
    if (count >= n) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`only ${count} of ${n} rows after ${timeoutMs} ms`);
}

describe("mollifier acceptance (real servers)", () => {
  test(`${N} concurrent triggers, threshold 5: all 200, each readable at once (QUEUED), then exactly ${N} rows`, async () => {
    const server = await startTestServer({ env: BURST_ENV });
    try {
      const started = Date.now();
      const ids = await burst(server, N);
      const acceptMs = Date.now() - started;
      expect(new Set(ids).size).toBe(N);

      // read back a sample straight away (the drain races us: a row or a buffered entry, both QUEUED)
      const sample = ids.filter((_, i) => i % Math.max(1, Math.floor(N / 100)) === 0);
      const reads = await Promise.all(sample.map((id) => api(server, "GET", `/api/v3/runs/${id}`)));
      expect(reads.map((r) => r.status)).toEqual(sample.map(() => 200));
      expect(reads.every((r) => r.body.status === "QUEUED")).toBe(true);
      expect(reads.some((r) => r.body.isBuffered === true)).toBe(true);

      await waitForRows(server, N, 120_000);
      const all = await rows(server);
      expect(all).toHaveLength(N);
      expect(new Set(all.map((r) => r.friendlyId))).toEqual(new Set(ids));
      console.log(`acceptance: ${N} triggers accepted in ${acceptMs} ms, drained in ${Date.now() - started} ms`);

      const metrics = await fetch(`${server.baseUrl}/metrics`).then((r) => r.text());
      expect(metrics).toMatch(/mollifier_decisions_total\{outcome="mollify",enrolled="true",reason="per_env_rate"\}/);
    } finally {
      await server.stop();
    }
  }, 240_000);

  test("cancel / tags / metadata / reschedule while buffered are on the materialised rows; buffered runs are listed", async () => {
    // this server never drains: the test drains it afterwards from a second server on the same data
    const server = await startTestServer({ env: { ...BURST_ENV, MOLLIFIER_DRAINER_ENABLED: "false" } });
    try {
      const plain = await burst(server, 20, 20);
      const delayed = await burst(server, 10, 10, { delay: "1h" });
      const buffered = await Promise.all([...plain, ...delayed].map((id) => api(server, "GET", `/api/v3/runs/${id}`)));
      const bufferedIds = new Set(buffered.filter((r) => r.body.isBuffered).map((r) => r.body.id as string));
      const [toCancel, toTag, toMeta] = plain.filter((id) => bufferedIds.has(id));
      const toReschedule = delayed.find((id) => bufferedIds.has(id))!;
      expect(toCancel && toTag && toMeta && toReschedule).toBeTruthy();
      expect(buffered.find((r) => r.body.id === toReschedule)!.body.status).toBe("DELAYED");

      expect(await api(server, "POST", `/api/v2/runs/${toCancel}/cancel`)).toMatchObject({ status: 200, body: { id: toCancel } });
      expect((await api(server, "GET", `/api/v3/runs/${toCancel}`)).body).toMatchObject({ status: "CANCELED", isBuffered: true });
      expect((await api(server, "POST", `/api/v1/runs/${toTag}/tags`, { tags: ["a", "b"] })).status).toBe(200);
      expect((await api(server, "POST", `/api/v1/runs/${toTag}/tags`, { tags: Array.from({ length: 11 }, (_, i) => `t${i}`) })).status).toBe(422);
      expect(await api(server, "PUT", `/api/v1/runs/${toMeta}/metadata`, { metadata: { step: 1 } })).toMatchObject({ status: 200, body: { metadata: { step: 1 } } });
      expect(
        await api(server, "PUT", `/api/v1/runs/${toMeta}/metadata`, { operations: [{ type: "increment", key: "step", value: 2 }] })
      ).toMatchObject({ status: 200, body: { metadata: { step: 3 } } });
      const later = new Date(Date.now() + 2 * 3600_000);
      const rescheduled = await api(server, "POST", `/api/v1/runs/${toReschedule}/reschedule`, { delay: later.toISOString() });
      expect(rescheduled).toMatchObject({ status: 200, body: { id: toReschedule, status: "DELAYED" } });
      expect((await api(server, "POST", `/api/v1/runs/${toTag}/reschedule`, { delay: "1h" })).status).toBe(422);

      const list = await api(server, "GET", "/api/v1/runs?page[size]=100");
      expect(list.status).toBe(200);
      const listed = list.body.data as Array<{ id: string; status: string; isBuffered?: boolean }>;
      expect(listed).toHaveLength(30);
      expect(listed.filter((r) => r.isBuffered).map((r) => r.id).sort()).toEqual([...bufferedIds].sort());
      expect(listed.find((r) => r.id === toCancel)?.status).toBe("CANCELED");

      // drain: same data, drainer on (server.restart keeps the env, so flip the flag on a fresh process)
      await server.kill();
      const drainerServer = await startDrainerOn(server);
      try {
        await waitForRows(server, 30, 60_000);
        const byId = new Map((await rows(server)).map((r) => [r.friendlyId, r]));
        expect(byId.get(toCancel)!.status).toBe("CANCELED");
        expect([...byId.get(toTag)!.runTags].sort()).toEqual(["a", "b"]);
        expect(JSON.parse(byId.get(toMeta)!.metadata!)).toEqual({ step: 3 });
        expect(byId.get(toReschedule)!.status).toBe("DELAYED");
        expect(byId.get(toReschedule)!.delayUntil!.getTime()).toBe(later.getTime());
      } finally {
        await drainerServer.stop();
      }
    } finally {
      await server.stop();
    }
  }, 180_000);

  test("SIGKILL mid-drain, restart: every run lands exactly once", async () => {
    const n = Math.min(N, 1500);
    const server = await startTestServer({ env: { ...BURST_ENV, MOLLIFIER_DRAIN_CONCURRENCY: "10", MOLLIFIER_DRAIN_BATCH_SIZE: "10" } });
    try {
      const ids = await burst(server, n);
      const deadline = Date.now() + 60_000;
      let count = 0;
      while (Date.now() < deadline) {
        count = (await rows(server)).length;
        if (count > n * 0.3) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      await server.kill();
      const atKill = (await rows(server)).length;
      expect(atKill).toBeLessThan(n);
      await server.restart();
      await waitForRows(server, n, 150_000);
      await new Promise((r) => setTimeout(r, 1_000));
      const all = await rows(server);
      expect(all).toHaveLength(n);
      expect(new Set(all.map((r) => r.friendlyId))).toEqual(new Set(ids));
      console.log(`kill: ${atKill}/${n} rows at SIGKILL, ${all.length} after restart`);
    } finally {
      await server.stop();
    }
  }, 300_000);
});

/** A drainer instance in this process on the server's databases and Redis prefix (instances share the buffer). */
async function startDrainerOn(server: TestServer): Promise<{ stop: () => Promise<void> }> {
  const { createControlPlaneClient } = await import("@internal/database");
  const { PrismaControlPlaneResolver } = await import("@internal/database/resolver");
  const { RunEngine } = await import("@internal/run-engine");
  const { createRunStoreFromUrls } = await import("@internal/run-store");
  const { TEST_REDIS_URL } = await import("@internal/testcontainers");
  const { parseEnv } = await import("~/env.server");
  const { mollifierConfigFromEnv } = await import("~/v3/mollifier/config.server");
  const { createMollifier } = await import("~/v3/mollifier/mollifier.server");
  const prefix = server.redis.keyPrefix;
  const { store, close: closeStore } = createRunStoreFromUrls({ databaseUrl: server.databaseUrl, splitEnabled: false, poolSize: 5 });
  const cp = createControlPlaneClient({ connectionString: server.databaseUrl, max: 2 });
  const quiet = { debug() {}, info() {}, warn() {}, error: (m: string, f?: Record<string, unknown>) => console.error(m, f) };
  const engine = new RunEngine({ runStore: store, resolver: new PrismaControlPlaneResolver({ client: cp }), redis: TEST_REDIS_URL, keyPrefix: `${prefix}engine:`, logger: quiet });
  const config = mollifierConfigFromEnv(parseEnv({ DATABASE_URL: server.databaseUrl, REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: prefix }));
  const mollifier = createMollifier({ config, engine, runStore: store, logger: quiet, mintKind: "LEGACY" });
  mollifier.drainerWorker.start();
  return {
    stop: async () => {
      await mollifier.drainerWorker.stop(5_000);
      await mollifier.close();
      await engine.close();
      await closeStore();
      await cp.$disconnect();
    },
  };
}
