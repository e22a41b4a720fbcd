import { Logger, makeWorkerUtils, run, type Runner, type WorkerUtils } from "graphile-worker";
import { createScratchDatabase } from "./scratch.js";
import type { PeerQueue } from "./types.js";
import { peerVersion } from "./versions.js";

const silent = new Logger(() => () => {});

/**
 * graphile-worker on its own fresh database beside `adminUrl`: single `addJob`, bulk `addJobs`, and
 * `run()` with a no-op task. `poolSize` caps both the adding pool and the worker's pool (a job holds no
 * connection while its handler runs). The database is dropped by `close()`.
 */
export async function createGraphilePeer(adminUrl: string, options: { poolSize?: number } = {}): Promise<PeerQueue> {
  const poolSize = options.poolSize ?? 20;
  const db = await createScratchDatabase(adminUrl, "bench_peers_graphile");
  let utils: WorkerUtils | undefined;
  let runner: Runner | undefined;
  try {
    utils = await makeWorkerUtils({ connectionString: db.url, logger: silent, maxPoolSize: poolSize });
    await utils.migrate();
  } catch (error) {
    await utils?.release();
    await db.drop();
    throw error;
  }
  const u = utils;
  return {
    label: `graphile-worker ${peerVersion("graphile-worker")}`,
    add: async (payload) => {
      await u.addJob("noop", payload);
    },
    addMany: async (payloads) => {
      await u.addJobs(payloads.map((payload) => ({ identifier: "noop", payload })));
    },
    startWorker: async (concurrency, handler) => {
      runner = await run({
        connectionString: db.url,
        concurrency,
        maxPoolSize: Math.min(poolSize, concurrency + 2),
        noHandleSignals: true,
        pollInterval: 1000,
        logger: silent,
        taskList: { noop: async (payload) => handler(payload as Record<string, unknown>) },
      });
    },
    stopWorker: async () => {
      await runner?.stop();
      runner = undefined;
    },
    pending: () =>
      u.withPgClient(async (client) => Number((await client.query<{ n: string }>("SELECT count(*)::text AS n FROM graphile_worker._private_jobs")).rows[0]!.n)),
    clear: async () => {
      await u.withPgClient((client) => client.query("DELETE FROM graphile_worker._private_jobs"));
    },
    close: async () => {
      await runner?.stop().catch(() => undefined);
      await u.release();
      await db.drop();
    },
  };
}
