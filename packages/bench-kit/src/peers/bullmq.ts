import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import { deleteKeysWithPrefix, scratchPrefix } from "./scratch.js";
import type { PeerQueue } from "./types.js";
import { peerVersion } from "./versions.js";

/**
 * BullMQ under its own key prefix on `redisUrl`: single `queue.add`, `addBulk`, and a `Worker` with a
 * no-op processor. Completed jobs are removed as they finish (as a production queue would be set up).
 * `close()` deletes every key under the prefix.
 */
export async function createBullmqPeer(redisUrl: string): Promise<PeerQueue> {
  const prefix = scratchPrefix("bench-peers-bullmq");
  // BullMQ joins `${prefix}:${queue}:…`; keep our scratch prefix's trailing colon out of the name
  const bullPrefix = prefix.slice(0, -1);
  const connect = () => new Redis(redisUrl, { maxRetriesPerRequest: null });
  const connection = connect();
  const queue = new Queue("noop", { connection, prefix: bullPrefix, defaultJobOptions: { removeOnComplete: true, removeOnFail: true } });
  let worker: Worker | undefined;
  await queue.waitUntilReady();
  return {
    label: `BullMQ ${peerVersion("bullmq")}`,
    add: async (payload) => {
      await queue.add("noop", payload);
    },
    addMany: async (payloads) => {
      await queue.addBulk(payloads.map((data) => ({ name: "noop", data })));
    },
    startWorker: async (concurrency, handler) => {
      worker = new Worker("noop", async (job) => handler(job.data as Record<string, unknown>), { connection: connect(), prefix: bullPrefix, concurrency });
      await worker.waitUntilReady();
    },
    stopWorker: async () => {
      await worker?.close();
      worker = undefined;
    },
    pending: async () => {
      const counts = await queue.getJobCounts("waiting", "active", "delayed", "prioritized", "waiting-children");
      return Object.values(counts).reduce((a, b) => a + b, 0);
    },
    clear: async () => {
      await queue.obliterate({ force: true });
    },
    close: async () => {
      await worker?.close().catch(() => undefined);
      await queue.close();
      const admin = new Redis(redisUrl);
      try {
        await deleteKeysWithPrefix(admin, prefix);
      } finally {
        admin.disconnect();
      }
      connection.disconnect();
    },
  };
}
