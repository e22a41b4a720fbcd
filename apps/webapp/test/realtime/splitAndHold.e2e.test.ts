import { createRunStoreFromUrls } from "@internal/run-store";
import { TEST_REDIS_URL } from "@internal/testcontainers";
import { classifyIdShape } from "@runplane/core";
import { parseShapeRequest } from "@runplane/core/realtime";
import { createRedisClient } from "@runplane/redis-worker/redis";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { logger } from "~/services/logger.server";
import { RealtimeChangeRouter } from "~/v3/realtime/changeRouter.server";
import { runStoreRunSource } from "~/v3/realtime/runSource.server";
import { serveShape } from "~/v3/realtime/shapeFeed.server";
import { startTestServer, type TestServer } from "../support/testServer";
import { collectShape, getShape, otherInstance, sleep, type OtherInstance } from "./helpers";

/** Split mode (NEW ksuid runs in the run-ops database) and a short live hold (REALTIME_LIVE_HOLD_MS=1500). */
const HOLD_MS = 1500;

function shapeRequest(query: string) {
  const parsed = parseShapeRequest(query);
  if (!parsed.success) throw parsed.error;
  return parsed.data;
}
let server: TestServer;
let other: OtherInstance;

beforeAll(async () => {
  server = await startTestServer({ split: true, env: { REALTIME_LIVE_HOLD_MS: String(HOLD_MS) } });
  other = await otherInstance(server);
}, 120_000);

afterAll(async () => {
  await other?.close();
  await server?.stop();
});

const runUrl = (id: string, query = "") => `${server.baseUrl}/realtime/v1/runs/${id}${query}`;
const keyOf = (id: string) => `"public"."TaskRun"/"${id}"`;

async function countInControlPlane(runId: string): Promise<number> {
  const { store, close } = createRunStoreFromUrls({ databaseUrl: server.databaseUrl, splitEnabled: false, poolSize: 1 });
  try {
    return await store.allClients()[0]!.taskRun.count({ where: { id: runId } });
  } finally {
    await close();
  }
}

describe("split mode", () => {
  test("NEW runs in the run-ops database stream through the run, tag and batch feeds", async () => {
    const { batch } = await other.engine.createBatch({ environment: other.env, runCount: 1 });
    const run = await other.trigger({ tags: ["split"], batch: { id: batch.friendlyId, index: 0 } });
    expect(classifyIdShape(run.id).residency).toBe("NEW");
    expect(await countInControlPlane(run.id)).toBe(0);

    const feeds = [
      collectShape(runUrl(run.friendlyId), server.devSecretKey),
      collectShape(`${server.baseUrl}/realtime/v1/runs?tags=split`, server.devSecretKey),
      collectShape(`${server.baseUrl}/realtime/v1/batches/${batch.friendlyId}`, server.devSecretKey),
    ];
    try {
      for (const feed of feeds) {
        await vi.waitFor(() => expect(feed.rows.get(keyOf(run.id))).toMatchObject({ friendlyId: run.friendlyId, status: "PENDING" }), { timeout: 10_000 });
      }
      await other.engine.cancelRun(run.id);
      for (const feed of feeds) {
        await vi.waitFor(() => expect(feed.rows.get(keyOf(run.id))).toMatchObject({ status: "CANCELED" }), { timeout: 5_000 });
        expect(feed.errors).toEqual([]);
      }
    } finally {
      feeds.forEach((f) => f.stop());
    }
  }, 30_000);
});

describe("live hold", () => {
  test("with nothing new, a live request answers up-to-date after the hold, at the same offset", async () => {
    const run = await other.trigger({});
    const snap = await getShape(runUrl(run.friendlyId, "?offset=-1"), server.devSecretKey);
    const offset = snap.headers.get("electric-offset")!;
    const started = Date.now();
    const res = await getShape(
      runUrl(run.friendlyId, `?cursor=1&handle=${snap.headers.get("electric-handle")}&live=true&offset=${offset}`),
      server.devSecretKey
    );
    const elapsed = Date.now() - started;
    expect(res.status).toBe(200);
    expect(elapsed).toBeGreaterThanOrEqual(HOLD_MS - 100);
    expect(elapsed).toBeLessThan(HOLD_MS + 3000);
    expect(res.body).toEqual([{ headers: { control: "up-to-date" } }]);
    expect(res.headers.get("electric-cursor")).toMatch(/^\d+$/);
    expect(res.headers.get("electric-offset")).toMatch(/^\d+_\d+$/);
  });

  test("writes that bypass the engine are caught by the refresh at the end of a hold", async () => {
    const run = await other.trigger({ tags: ["bypass-a"] });
    const runFeed = collectShape(runUrl(run.friendlyId), server.devSecretKey);
    const tagFeed = collectShape(`${server.baseUrl}/realtime/v1/runs?tags=bypass-b`, server.devSecretKey);
    try {
      await vi.waitFor(() => expect(runFeed.rows.has(keyOf(run.id))).toBe(true), { timeout: 10_000 });
      await vi.waitFor(() => expect(tagFeed.batches.length).toBeGreaterThan(0), { timeout: 10_000 });
      expect(tagFeed.rows.size).toBe(0);

      // Straight to the database: no engine event, nothing in the change log.
      await other.store.updateRun(run.id, { runTags: ["bypass-a", "bypass-b"] });
      await vi.waitFor(() => expect(runFeed.rows.get(keyOf(run.id))).toMatchObject({ runTags: ["bypass-a", "bypass-b"] }), {
        timeout: HOLD_MS * 3,
      });
      await vi.waitFor(() => expect(tagFeed.rows.get(keyOf(run.id))).toMatchObject({ runTags: ["bypass-a", "bypass-b"] }), {
        timeout: HOLD_MS * 3,
      });
    } finally {
      runFeed.stop();
      tagFeed.stop();
    }
  }, 30_000);

  test("a change log that starts over (new epoch) makes clients refetch with 409", async () => {
    const run = await other.trigger({});
    const feed = collectShape(runUrl(run.friendlyId), server.devSecretKey);
    try {
      await vi.waitFor(() => expect(feed.rows.has(keyOf(run.id))).toBe(true), { timeout: 10_000 });
      const inserts = () => feed.changes.filter((c) => c.operation === "insert").length;
      expect(inserts()).toBe(1);
      const admin = createRedisClient(TEST_REDIS_URL);
      try {
        await admin.del(`${server.redis.keyPrefix}realtime:env:${other.env.id}:meta`);
      } finally {
        admin.disconnect();
      }
      // The held request's refresh sees a new epoch or the next request does: must-refetch, then a new snapshot.
      await vi.waitFor(() => expect(inserts()).toBe(2), { timeout: HOLD_MS * 4 });
      expect(feed.batches.flat().some((m) => "headers" in m && (m.headers as { control?: string }).control === "must-refetch")).toBe(true);
      expect(feed.rows.get(keyOf(run.id))).toMatchObject({ status: "PENDING" });
      expect(feed.errors).toEqual([]);
    } finally {
      feed.stop();
    }
  }, 30_000);
});

describe("serveShape in process (on the server's databases and Redis)", () => {
  test("a held request ends as soon as the client goes away, and when the instance stops", async () => {
    const run = await other.trigger({});
    const subscriber = createRedisClient(TEST_REDIS_URL);
    const router = new RealtimeChangeRouter({ subscriber, channel: (id) => other.changeLog.channel(id), logger, lingerMs: 100 });
    const deps = { changeLog: other.changeLog, router, source: runStoreRunSource(other.store), holdMs: 30_000 };
    const loaded = await deps.source.loadRun(other.env, run.friendlyId);
    const shape = { kind: "run" as const, environmentId: other.env.id, run: loaded!, skipColumns: [] };
    try {
      const snapshot = await serveShape(deps, shape, shapeRequest("/?offset=-1"), new AbortController().signal);
      const handle = snapshot.headers["electric-handle"];
      const offset = snapshot.headers["electric-offset"];
      const live = shapeRequest(`/?offset=${offset}&handle=${handle}&live=true`);

      const controller = new AbortController();
      const started = Date.now();
      const held = serveShape(deps, shape, live, controller.signal);
      await sleep(200);
      expect(router.subscribedChannels()).toContain(other.changeLog.channel(other.env.id));
      controller.abort();
      const answered = await held;
      expect(Date.now() - started).toBeLessThan(1500);
      expect(JSON.parse(answered.body)).toEqual([{ headers: { control: "up-to-date" } }]);
      // The channel is released once nobody listens.
      await vi.waitFor(() => expect(router.subscribedChannels()).toEqual([]));

      // Shutdown: closing the router answers held requests at once.
      const stopping = serveShape(deps, shape, live, new AbortController().signal);
      await sleep(200);
      const closedAt = Date.now();
      await router.close();
      expect(JSON.parse((await stopping).body)).toEqual([{ headers: { control: "up-to-date" } }]);
      expect(Date.now() - closedAt).toBeLessThan(1000);
    } finally {
      await router.close();
    }
  });
});
