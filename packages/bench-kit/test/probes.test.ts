import { Redis } from "ioredis";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { redisUsedMemoryProbe, sqlNumberProbe } from "../src/progress.js";

const PG_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

describe("ready-made probes against the local services", () => {
  it("reads Redis used_memory", async () => {
    const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
      const bytes = await redisUsedMemoryProbe(redis)();
      expect(bytes).toBeGreaterThan(100_000);
    } finally {
      redis.disconnect();
    }
  });

  it("reads a number from SQL (bigint counts included)", async () => {
    const pool = new pg.Pool({ connectionString: PG_URL, max: 1 });
    try {
      const query = (sql: string) => pool.query(sql).then((r) => r.rows as Record<string, unknown>[]);
      expect(await sqlNumberProbe(query, "select count(*) from pg_stat_activity")()).toBeGreaterThanOrEqual(1);
      expect(await sqlNumberProbe(query, "select 42::bigint as n")()).toBe(42);
      await expect(sqlNumberProbe(query, "select 1 where false")()).rejects.toThrow(/no rows/);
    } finally {
      await pool.end();
    }
  });
});
