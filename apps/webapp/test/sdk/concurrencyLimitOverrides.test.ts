import type { RunQueue } from "@internal/run-engine";
import * as worker from "@runplane/worker";
import { NotFoundError, concurrencyLimits, configure, runs, tasks } from "@trigger.dev/sdk";
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { api, MODES, waitFor } from "../api/support/api";
import { expectNoHeldSlots, openServerRunQueue } from "../support/noLeaks";
import { startTestServer, type TestServer } from "../support/testServer";
import { maxOverlap, sleep } from "../worker/support/harness";

type Interval = { key: string; start: number; end: number };

/**
 * `concurrencyLimits.override` with `total` (all keys of a queue at once) and with one `concurrencyKey`
 * (optionally lapsing after a ttl), their views and resets, through the published @trigger.dev/sdk 4.8.3
 * against a real server and @runplane/worker, in single and split mode. Overlap is measured from the
 * start/end timestamps the tasks record; the no-leak assertion runs at the end.
 */
describe.each(MODES)("concurrency limit overrides: total and per key ($mode)", ({ split }) => {
  let server: TestServer;
  let running: worker.RunningWorker;
  let runQueue: RunQueue;
  let devEnvId: string;
  const intervals: Interval[] = [];
  const workerLogs: string[] = [];

  const record = async (key: string) => {
    const start = Date.now();
    await sleep(300);
    intervals.push({ key, start, end: Date.now() });
  };
  const totalTask = worker.task({ id: "ov-total", queue: { concurrencyLimit: 2 }, run: async (p: { key: string }) => record(p.key) });
  const keyTask = worker.task({ id: "ov-key", queue: { concurrencyLimit: 1 }, run: async (p: { key: string }) => record(p.key) });
  const ttlTask = worker.task({ id: "ov-ttl", queue: { concurrencyLimit: 1 }, run: async () => "ran" });
  const waitChild = worker.task({ id: "ov-wait-child", queue: { name: "ov-wait" }, run: async () => "child" });
  const waitParent = worker.task({
    id: "ov-wait-parent",
    queue: { name: "ov-wait" },
    run: async () => {
      const result = await waitChild.triggerAndWait({}, { concurrencyKey: "child" });
      return result.ok ? result.output : "child failed";
    },
  });

  beforeAll(async () => {
    server = await startTestServer({ split });
    running = await worker.startWorker({
      apiUrl: server.baseUrl,
      secretKey: server.devSecretKey,
      tasks: [totalTask, keyTask, ttlTask, waitChild, waitParent],
      concurrency: 10,
      heartbeatIntervalMs: 500,
      pollWaitMs: 2_000,
      logLevel: "warn",
      logSink: (line) => void workerLogs.push(line),
    });
    runQueue = openServerRunQueue(server);
    devEnvId = await devEnvironmentId();
  }, 120_000);
  afterAll(async () => {
    await running?.stop();
    await expectNoHeldSlots(runQueue, [devEnvId]).finally(() => runQueue?.close());
    await server?.stop();
    if (process.env.SHOW_WORKER_LOGS) console.log(workerLogs.join("\n"));
  }, 60_000);
  beforeEach(() => {
    intervals.length = 0;
    configure({ baseURL: server.baseUrl, accessToken: server.devSecretKey });
  });

  async function devEnvironmentId(): Promise<string> {
    const client = new pg.Client({ connectionString: server.databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query(`SELECT id FROM "RuntimeEnvironment" WHERE "apiKey" = $1`, [server.devSecretKey]);
      return rows[0].id as string;
    } finally {
      await client.end();
    }
  }

  async function triggerKeyed(taskId: string, keys: string[]): Promise<string[]> {
    return Promise.all(keys.map(async (key) => (await tasks.trigger(taskId, { key }, { concurrencyKey: key })).id));
  }

  async function expectAllCompleted(ids: string[]): Promise<void> {
    for (const id of ids) expect((await runs.poll(id, { pollIntervalMs: 200 })).status).toBe("COMPLETED");
  }

  test("a total of 2 on a keyed queue never runs 3 at once across keys; reset restores the declared total", async () => {
    const overridden = await concurrencyLimits.override("task/ov-total", { total: 2 });
    expect(overridden.total).toMatchObject({ current: 2, base: null, override: 2 });
    expect(overridden.total.overriddenAt).toBeInstanceOf(Date);
    expect(overridden.perKey).toMatchObject({ current: 2, base: 2, override: null });
    expect(await runQueue.queueSettings(devEnvId, "task/ov-total")).toMatchObject({ limit: 2, total: 2 });
    // The row is the record: a worker registering pushes the total to the run queue again.
    await runQueue.updateQueueTotalLimit(devEnvId, "task/ov-total", null);
    const again = await worker.startWorker({
      apiUrl: server.baseUrl,
      secretKey: server.devSecretKey,
      tasks: [totalTask, keyTask, ttlTask, waitChild, waitParent],
      concurrency: 1,
      logLevel: "warn",
      logSink: (line) => void workerLogs.push(line),
    });
    await again.stop();
    expect(await runQueue.queueSettings(devEnvId, "task/ov-total")).toMatchObject({ limit: 2, total: 2 });

    const ids = await triggerKeyed("ov-total", ["a", "b", "c", "d", "a", "b", "c", "d"]);
    await expectAllCompleted(ids);
    expect(intervals).toHaveLength(8);
    expect(maxOverlap(intervals)).toBe(2);

    const reset = await concurrencyLimits.reset("task/ov-total");
    expect(reset.total).toMatchObject({ base: null, override: null, overriddenAt: null });
    expect(reset.total.current).toBeGreaterThan(2);
    expect(await runQueue.queueSettings(devEnvId, "task/ov-total")).toMatchObject({ limit: 2, total: null });
    expect((await concurrencyLimits.retrieve("task/ov-total")).total.override).toBeNull();
  });

  test("a per-key override raises one key's cap while the other keys keep the queue's; reset drops it", async () => {
    const overridden = await concurrencyLimits.override("task/ov-key", { concurrencyKey: "vip", perKey: 3 });
    expect(overridden).toMatchObject({ name: "task/ov-key", concurrencyKey: "vip", paused: false, perKey: { current: 3, base: 1, override: 3 } });
    // No ttl: it lapses after the default of 7 days.
    const days = (overridden.perKey.expiresAt!.getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(6.9);
    expect(days).toBeLessThanOrEqual(7);
    expect(await concurrencyLimits.retrieve("task/ov-key", { concurrencyKey: "std" })).toMatchObject({
      perKey: { current: 1, base: 1, override: null, expiresAt: null },
    });

    const ids = await triggerKeyed("ov-key", ["vip", "vip", "vip", "vip", "vip", "vip", "std", "std", "std", "other", "other", "other"]);
    await expectAllCompleted(ids);
    expect(maxOverlap(intervals.filter((i) => i.key === "vip"))).toBe(3);
    expect(maxOverlap(intervals.filter((i) => i.key === "std"))).toBe(1);
    expect(maxOverlap(intervals.filter((i) => i.key === "other"))).toBe(1);

    const reset = await concurrencyLimits.reset("task/ov-key", { concurrencyKey: "vip" });
    expect(reset).toMatchObject({ concurrencyKey: "vip", perKey: { current: 1, base: 1, override: null, expiresAt: null } });
    expect(await runQueue.keyConcurrencyLimit(devEnvId, "task/ov-key", "vip")).toBeNull();
    // The limit itself was never overridden.
    expect((await concurrencyLimits.retrieve("task/ov-key")).perKey).toMatchObject({ current: 1, override: null });
  });

  test("a per-key override with a ttl lapses by itself: a blocked key runs again", async () => {
    const blocked = await concurrencyLimits.override("task/ov-ttl", { concurrencyKey: "t", perKey: 0, ttl: 3 });
    expect(blocked.perKey).toMatchObject({ current: 0, base: 1, override: 0 });
    expect(blocked.perKey.expiresAt!.getTime() - Date.now()).toBeLessThanOrEqual(3_000);

    const [held] = await triggerKeyed("ov-ttl", ["t"]);
    const [free] = await triggerKeyed("ov-ttl", ["u"]);
    await expectAllCompleted([free!]); // the worker dequeues this queue meanwhile
    const view = await concurrencyLimits.retrieve("task/ov-ttl", { concurrencyKey: "t" });
    // While the override still holds (a loaded machine may already be past the ttl), the key's run waits.
    if (view.perKey.override === 0) expect((await runs.retrieve(held!)).status).toBe("QUEUED");

    await waitFor(async () => (await concurrencyLimits.retrieve("task/ov-ttl", { concurrencyKey: "t" })).perKey.override === null, 15_000, "the ttl to lapse");
    await expectAllCompleted([held!]);
    expect(await concurrencyLimits.retrieve("task/ov-ttl", { concurrencyKey: "t" })).toMatchObject({ perKey: { current: 1, override: null, expiresAt: null } });
  });

  test("with a total of 1, a parent waiting on a child of another key releases its slot: both complete", async () => {
    await concurrencyLimits.override("ov-wait", { total: 1 });
    try {
      const parent = await tasks.trigger("ov-wait-parent", {}, { concurrencyKey: "parent" });
      const run = await runs.poll(parent.id, { pollIntervalMs: 200 });
      expect(run.status).toBe("COMPLETED");
      expect(run.output).toBe("child");
    } finally {
      await concurrencyLimits.reset("ov-wait");
    }
  });

  test("refusals: bad values are 400, another environment's limit is 404; nothing changes", async () => {
    const path = `/api/v1/concurrency-limits/${encodeURIComponent("task/ov-key")}`;
    const bad: Array<[unknown, string]> = [
      [{ total: -1 }, "total"],
      [{ perKey: 1.5 }, "perKey"],
      [{ total: 100_001 }, "total"],
      [{}, "perKey"],
      [{ ttl: 60, perKey: 2 }, "ttl"],
      [{ concurrencyKey: "k", total: 2, perKey: 1 }, "total"],
      [{ concurrencyKey: "k" }, "perKey"],
      [{ concurrencyKey: "", perKey: 1 }, "concurrencyKey"],
      [{ concurrencyKey: "k", perKey: 1, ttl: "forever" }, "ttl"],
      [{ concurrencyKey: "k", perKey: 1, ttl: "31d" }, "ttl"],
      [{ concurrencyKey: "k", perKey: 1, ttl: 0 }, "ttl"],
    ];
    for (const [body, field] of bad) {
      const res = await api(server, "POST", `${path}/override`, { body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error).toContain(field);
    }
    const badKey = await api(server, "GET", `${path}?concurrencyKey=`);
    expect(badKey.status).toBe(400);
    expect(badKey.body.error).toContain("concurrencyKey");
    expect(await runQueue.queueSettings(devEnvId, "task/ov-key")).toMatchObject({ limit: 1, total: null });
    expect(await runQueue.keyConcurrencyLimit(devEnvId, "task/ov-key", "k")).toBeNull();

    configure({ baseURL: server.baseUrl, accessToken: server.prodSecretKey });
    await expect(concurrencyLimits.override("task/ov-key", { total: 1 })).rejects.toBeInstanceOf(NotFoundError);
    await expect(concurrencyLimits.override("task/ov-key", { concurrencyKey: "k", perKey: 5 })).rejects.toBeInstanceOf(NotFoundError);
    await expect(concurrencyLimits.retrieve("task/ov-key", { concurrencyKey: "k" })).rejects.toBeInstanceOf(NotFoundError);
    await expect(concurrencyLimits.reset("task/ov-key", { concurrencyKey: "k" })).rejects.toBeInstanceOf(NotFoundError);
    await expect(concurrencyLimits.reset("task/ov-key")).rejects.toBeInstanceOf(NotFoundError);
    expect(await runQueue.queueSettings(devEnvId, "task/ov-key")).toMatchObject({ limit: 1, total: null });
    expect(await runQueue.keyConcurrencyLimit(devEnvId, "task/ov-key", "k")).toBeNull();
  });
});
