/**
 * Buffer throughput: accepts/s and pops/s (pop + ack, as the drainer does) for N entries.
 *   pnpm --filter @runplane/redis-worker bench:buffer [N=2000] [concurrency=50]
 * Uses REDIS_URL (default redis://127.0.0.1:6379) under a throwaway key prefix, deleted afterwards.
 */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { MollifierBuffer } from "../src/mollifier/index.js";

const N = Number(process.argv[2] ?? process.env.BENCH_N ?? 2_000);
const CONCURRENCY = Number(process.argv[3] ?? process.env.BENCH_CONCURRENCY ?? 50);
const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const keyPrefix = `bench:${randomBytes(4).toString("hex")}:`;
const ENVS = 10;

const snapshot = (i: number) => ({
  friendlyId: `run_${i}`,
  taskIdentifier: "bench-task",
  payload: JSON.stringify({ index: i, data: "x".repeat(512) }),
  payloadType: "application/json",
  tags: ["bench"],
  queue: "task/bench-task",
});

async function inParallel(count: number, concurrency: number, work: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await work(next++);
    }),
  );
  return performance.now() - started;
}

async function main() {
  const client = new Redis(url, { keyPrefix, enableAutoPipelining: true, maxRetriesPerRequest: 20 });
  const buffer = new MollifierBuffer({ redis: client });
  try {
    const acceptMs = await inParallel(N, CONCURRENCY, (i) =>
      buffer.accept({ runId: `run_${i}`, envId: `env_${i % ENVS}`, orgId: `org_${i % 3}`, snapshot: snapshot(i) }),
    );
    let popped = 0;
    const popMs = await inParallel(N, CONCURRENCY, async (i) => {
      const env = i % ENVS;
      const entry = await buffer.pop({ envId: `env_${env}`, orgId: `org_${env % 3}`, leaseMs: 60_000 });
      if (!entry) return;
      popped += 1;
      await buffer.markDrained(entry.runId, entry.leaseId);
      await buffer.ack(entry.runId);
    });
    const rate = (ms: number, n: number) => Math.round((n / ms) * 1000).toLocaleString("en-US");
    console.log(`entries: ${N}, concurrency: ${CONCURRENCY}, envs: ${ENVS}`);
    console.log(`accept: ${rate(acceptMs, N)}/s (${acceptMs.toFixed(0)} ms)`);
    console.log(`pop+markDrained+ack: ${rate(popMs, popped)}/s (${popMs.toFixed(0)} ms, ${popped} popped)`);
    console.log(`depth after: ${await buffer.getDepth()}`);
  } finally {
    const admin = new Redis(url);
    let cursor = "0";
    do {
      const [next, keys] = await admin.scan(cursor, "MATCH", `${keyPrefix}*`, "COUNT", 1000);
      cursor = next;
      if (keys.length) await admin.del(...keys);
    } while (cursor !== "0");
    admin.disconnect();
    client.disconnect();
  }
}

void main();
