import { randomBytes } from "node:crypto";
import { Redis, type RedisOptions } from "ioredis";
import { TEST_REDIS_URL } from "./config.js";

export type TestRedis = {
  /** Options for clients the code under test creates; every key they write starts with `keyPrefix`. */
  options: RedisOptions & { host: string; port: number; keyPrefix: string };
  url: string;
  keyPrefix: string;
  cleanup: () => Promise<void>;
};

/** An isolated key space on the local Redis: a unique prefix, deleted after the test. */
export function createTestRedis(baseUrl = TEST_REDIS_URL): TestRedis {
  const url = new URL(baseUrl);
  const keyPrefix = `test:${Date.now().toString(36)}${randomBytes(4).toString("hex")}:`;
  const options = {
    host: url.hostname,
    port: Number(url.port || 6379),
    db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0,
    keyPrefix,
    maxRetriesPerRequest: 20,
  };
  return {
    options,
    url: baseUrl,
    keyPrefix,
    cleanup: async () => {
      const admin = new Redis({ ...options, keyPrefix: undefined });
      try {
        let cursor = "0";
        do {
          const [next, keys] = await admin.scan(cursor, "MATCH", `${keyPrefix}*`, "COUNT", 1000);
          cursor = next;
          if (keys.length) await admin.unlink(...keys);
        } while (cursor !== "0");
      } finally {
        admin.disconnect();
      }
    },
  };
}
