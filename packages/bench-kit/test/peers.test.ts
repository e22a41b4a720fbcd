import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createBullmqPeer, createGraphilePeer, measureAdd, measureDrain, measureStartLatency, startFloorServer, type PeerQueue } from "../src/peers/index.js";

const PG_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const redis = new Redis(REDIS_URL);
afterAll(() => redis.disconnect());

async function databaseExists(name: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    return (await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name])).rowCount === 1;
  } finally {
    await client.end();
  }
}

async function databasesNamed(pattern: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    return (await client.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE $1", [pattern])).rows.map((r) => r.datname);
  } finally {
    await client.end();
  }
}

async function exercise(peer: PeerQueue): Promise<void> {
  const adds = await measureAdd(peer, { concurrency: 4, warmupMs: 0, durationMs: 200, payloadBytes: 100 });
  expect(adds.errors).toBe(0);
  expect(adds.ok).toBeGreaterThan(0);
  expect(await peer.pending()).toBe(adds.ok);
  await peer.clear();
  expect(await peer.pending()).toBe(0);
  const drain = await measureDrain(peer, { jobs: 50, concurrency: 5, timeoutMs: 20_000, payloadBytes: 100 });
  expect(drain.done).toBe(50);
  expect(drain.timedOut).toBe(false);
  // a library may record the last completions just after its handler returned
  await expect.poll(() => peer.pending(), { timeout: 5_000 }).toBe(0);
  const latency = await measureStartLatency(peer, { rate: 50, durationMs: 400, concurrency: 5, drainTimeoutMs: 10_000, payloadBytes: 100 });
  expect(latency.scheduled).toBe(20);
  expect(latency.notSent).toBe(0);
  expect(latency.started).toBe(20);
  expect(latency.backlogAtEnd).toBe(0);
  expect(latency.latency.count).toBe(20);
}

describe("peer queues against the local Postgres and Redis", () => {
  it("graphile-worker: adds, drains and starts jobs on its own database, dropped on close", async () => {
    const before = new Set(await databasesNamed("bench_peers_graphile_%"));
    const peer = await createGraphilePeer(PG_URL, { poolSize: 6 });
    const mine = (await databasesNamed("bench_peers_graphile_%")).filter((n) => !before.has(n));
    expect(mine).toHaveLength(1);
    try {
      await exercise(peer);
    } finally {
      await peer.close();
    }
    expect(await databaseExists(mine[0]!)).toBe(false);
  });

  it("BullMQ: adds, drains and starts jobs under its own prefix, deleted on close", async () => {
    const peer = await createBullmqPeer(REDIS_URL);
    let prefixKeys: string[] = [];
    try {
      await exercise(peer);
      await peer.add({ i: -1 });
      prefixKeys = await redis.keys("bench-peers-bullmq:*");
      expect(prefixKeys.length).toBeGreaterThan(0);
    } finally {
      await peer.close();
    }
    const left = await redis.exists(...prefixKeys);
    expect(left).toBe(0);
  });

  it("floor server: one Lua write per accepted request, keys removed on stop", async () => {
    const floor = await startFloorServer(REDIS_URL);
    try {
      const res = await fetch(floor.url, { method: "POST", headers: { authorization: "Bearer k" }, body: JSON.stringify({ payload: { a: 1 } }) });
      expect(res.status).toBe(200);
      const { id } = (await res.json()) as { id: string };
      expect(JSON.parse((await redis.hget(`${floor.keyPrefix}entry:${id}`, "payload"))!)).toEqual({ a: 1 });
      expect(await redis.lrange(`${floor.keyPrefix}queue:Bearer k`, 0, -1)).toEqual([id]);
      const bad = await fetch(floor.url, { method: "POST", body: "{" });
      expect(bad.status).toBe(400);
    } finally {
      await floor.stop();
    }
    expect(await redis.keys(`${floor.keyPrefix}*`)).toEqual([]);
  });
});
