// Engine throughput smoke bench: `pnpm bench` in this package (tsx bench/engine.ts).
//   BENCH_RUNS (default 2000)          runs triggered, then executed
//   BENCH_TRIGGER_CONCURRENCY (50)     triggers in flight
//   BENCH_CONSUMERS (4)                dequeue loops, each taking up to BENCH_BATCH (10) runs per call
//   BENCH_SPLIT=1                      control plane + run-ops databases, NEW ids
// Needs the local Postgres and Redis (TEST_DATABASE_URL / TEST_REDIS_URL override them).
import { randomBytes } from "node:crypto";
import { createControlPlaneClient } from "@internal/database";
import { PrismaControlPlaneResolver } from "@internal/database/resolver";
import { createRunStoreFromUrls } from "@internal/run-store";
// Deep imports: the package index also loads vitest fixtures, which cannot load outside vitest.
import { createTestDatabase } from "../../testcontainers/src/postgres.js";
import { createTestRedis } from "../../testcontainers/src/redis.js";
import { generateCuid } from "@runplane/core";
import { RunEngine, registerWorker } from "../src/index.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 2000);
const TRIGGER_CONCURRENCY = Number(process.env.BENCH_TRIGGER_CONCURRENCY ?? 50);
const CONSUMERS = Number(process.env.BENCH_CONSUMERS ?? 4);
const BATCH = Number(process.env.BENCH_BATCH ?? 10);
const SPLIT = process.env.BENCH_SPLIT === "1";

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main() {
  const cpDb = await createTestDatabase("control-plane");
  const runOpsDb = SPLIT ? await createTestDatabase("run-ops") : null;
  const redis = createTestRedis();
  const { store, close: closeStore } = createRunStoreFromUrls({
    databaseUrl: cpDb.url,
    runOpsDatabaseUrl: runOpsDb?.url,
    splitEnabled: SPLIT,
    poolSize: 20,
  });
  const cp = createControlPlaneClient({ connectionString: cpDb.url, max: 4 });
  const token = () => randomBytes(6).toString("hex");
  const org = await cp.organization.create({ data: { id: generateCuid(), slug: `org-${token()}`, title: "Bench" } });
  const project = await cp.project.create({ data: { id: generateCuid(), slug: "bench", name: "Bench", externalRef: `proj_${token()}`, organizationId: org.id } });
  const envRow = await cp.runtimeEnvironment.create({
    data: {
      id: generateCuid(),
      slug: "prod",
      type: "PRODUCTION",
      apiKey: `tr_prod_${token()}`,
      pkApiKey: `pk_prod_${token()}`,
      shortcode: token(),
      maximumConcurrencyLimit: 10_000,
      projectId: project.id,
      organizationId: org.id,
    },
  });
  const resolver = new PrismaControlPlaneResolver({ client: cp });
  const env = (await resolver.resolveEnv(envRow.id))!;
  const engine = new RunEngine({
    runStore: store,
    resolver,
    redis: redis.options,
    mintKind: SPLIT ? "NEW" : "LEGACY",
    logger: { debug() {}, info() {}, warn() {}, error: (m, f) => console.error(m, f) },
  });
  await registerWorker({ prisma: cp, resolver, engine }, env, { version: "bench-1", tasks: [{ id: "noop" }] });
  engine.start();

  try {
    // Phase 1: triggers.
    let next = 0;
    const triggerLatencies: number[] = [];
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: TRIGGER_CONCURRENCY }, async () => {
        while (next < RUNS) {
          next++;
          const s = performance.now();
          await engine.trigger({ taskIdentifier: "noop", environment: env, payload: "{}", queue: "task/noop" });
          triggerLatencies.push(performance.now() - s);
        }
      })
    );
    const triggerSeconds = (performance.now() - t0) / 1000;
    triggerLatencies.sort((a, b) => a - b);

    // Phase 2: dequeue → start → complete with a no-op task.
    let done = 0;
    const runLatencies: number[] = [];
    const t1 = performance.now();
    await Promise.all(
      Array.from({ length: CONSUMERS }, async (_, i) => {
        while (done < RUNS) {
          const batch = await engine.dequeue({ environmentId: env.id, consumerId: `bench-${i}`, maxRuns: BATCH, waitMs: 500 });
          if (batch.length === 0 && done >= RUNS) break;
          await Promise.all(
            batch.map(async (d) => {
              const s = performance.now();
              const started = await engine.startRunAttempt(d.runId, d.snapshotId);
              await engine.completeRunAttempt(d.runId, started.snapshotId, { ok: true, output: "{}" });
              runLatencies.push(performance.now() - s);
              done++;
            })
          );
        }
      })
    );
    const execSeconds = (performance.now() - t1) / 1000;
    runLatencies.sort((a, b) => a - b);

    const round = (n: number) => Math.round(n * 10) / 10;
    console.log(
      JSON.stringify(
        {
          mode: SPLIT ? "split" : "single",
          runs: RUNS,
          trigger: {
            concurrency: TRIGGER_CONCURRENCY,
            perSecond: round(RUNS / triggerSeconds),
            p50ms: round(percentile(triggerLatencies, 50)),
            p95ms: round(percentile(triggerLatencies, 95)),
            p99ms: round(percentile(triggerLatencies, 99)),
          },
          execute: {
            consumers: CONSUMERS,
            batch: BATCH,
            perSecond: round(done / execSeconds),
            startToCompleteP50ms: round(percentile(runLatencies, 50)),
            startToCompleteP95ms: round(percentile(runLatencies, 95)),
          },
        },
        null,
        2
      )
    );
  } finally {
    await engine.close();
    await closeStore();
    await cp.$disconnect();
    await redis.cleanup();
    await cpDb.drop();
    await runOpsDb?.drop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
