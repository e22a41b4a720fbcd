import { createTestRedis, TEST_REDIS_URL } from "@internal/testcontainers";
import { createRedisClient } from "@runplane/redis-worker/redis";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { isRateLimitExempt } from "~/services/rateLimit/apiRateLimit.server";
import { TokenBucketLimiter } from "~/services/rateLimit/tokenBucket.server";
import { startTestServer, type TestServer } from "../support/testServer";
import { api } from "./support/api";

describe("token bucket script", () => {
  const testRedis = createTestRedis();
  const redis = createRedisClient(TEST_REDIS_URL, "rate-limit-test");
  afterAll(async () => {
    await testRedis.cleanup();
    redis.disconnect();
  });

  test("is atomic under concurrency: exactly `size` of 300 simultaneous takes pass", async () => {
    const limiter = new TokenBucketLimiter(redis, `${testRedis.keyPrefix}bucket:`, { size: 50, refill: 1, intervalMs: 60_000 });
    const decisions = await Promise.all(Array.from({ length: 300 }, () => limiter.take("env-a")));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(50);
    // Every allowed take saw a distinct remaining count: no two read the same state.
    expect(new Set(decisions.filter((d) => d.allowed).map((d) => d.remaining)).size).toBe(50);
    expect(decisions.every((d) => d.limit === 50 && d.resetAt > Date.now())).toBe(true);
    // Other keys have their own bucket.
    expect((await limiter.take("env-b")).allowed).toBe(true);
  });

  test("refills `refill` tokens per interval, never above `size`", async () => {
    // The script keeps time by Redis's clock, so the test waits on that clock instead of racing timers.
    const intervalMs = 1_000;
    const redisNow = async () => {
      const [seconds, micros] = await redis.time();
      return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    };
    const until = async (atMs: number) => {
      while ((await redisNow()) < atMs) await new Promise((r) => setTimeout(r, 20));
    };
    const limiter = new TokenBucketLimiter(redis, `${testRedis.keyPrefix}refill:`, { size: 4, refill: 2, intervalMs });
    const first = await Promise.all(Array.from({ length: 6 }, () => limiter.take("k")));
    expect(first.filter((d) => d.allowed)).toHaveLength(4);

    const refillAt = first[0]!.resetAt;
    await until(refillAt);
    const refillsBy = (now: number) => Math.min(4, 2 * (Math.floor((now - refillAt) / intervalMs) + 1));
    const before = refillsBy(await redisNow());
    const second = await Promise.all(Array.from({ length: 6 }, () => limiter.take("k")));
    const after = refillsBy(await redisNow());
    // One refill landed: 2 tokens (4, should this machine have stalled past the next interval).
    expect([before, after]).toContain(second.filter((d) => d.allowed).length);

    // Many intervals later the bucket is full, never above its size.
    await until(refillAt + 4 * intervalMs);
    const third = await Promise.all(Array.from({ length: 6 }, () => limiter.take("k")));
    expect(third.filter((d) => d.allowed)).toHaveLength(4);
  });

  test("exempt paths", () => {
    expect(isRateLimitExempt("/api/v1/waitpoints/tokens/waitpoint_x/callback/abc")).toBe(true);
    expect(isRateLimitExempt("/api/v1/auth/jwt/claims")).toBe(true);
    expect(isRateLimitExempt("/api/v1/worker/dequeue")).toBe(true);
    expect(isRateLimitExempt("/healthcheck")).toBe(true);
    expect(isRateLimitExempt("/api/v1/tasks/x/trigger")).toBe(false);
    expect(isRateLimitExempt("/api/v3/runs/run_1")).toBe(false);
  });
});

describe("API rate limit on a server (bucket of 3, no refill within the test)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      env: { API_RATE_LIMIT_BUCKET_SIZE: "3", API_RATE_LIMIT_REFILL_RATE: "1", API_RATE_LIMIT_REFILL_INTERVAL_MS: "600000" },
    });
  }, 120_000);
  afterAll(async () => void (await server?.stop()), 60_000);

  test("429 with retry-after and x-ratelimit-* once the environment's bucket is empty; other environments unaffected", async () => {
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await api(server, "GET", "/api/v1/runs");
      expect(res.status).toBe(200);
      expect(res.headers.get("x-ratelimit-limit")).toBe("3");
      seen.push(Number(res.headers.get("x-ratelimit-remaining")));
    }
    expect(seen).toEqual([2, 1, 0]);

    const limited = await api(server, "POST", "/api/v1/tasks/hello/trigger", { body: { payload: "x" } });
    expect(limited.status).toBe(429);
    expect(limited.body.error).toBe("Rate limit exceeded");
    const reset = Number(limited.headers.get("x-ratelimit-reset"));
    expect(reset).toBeGreaterThan(Date.now());
    expect(reset).toBeLessThan(Date.now() + 600_001);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(limited.headers.get("x-ratelimit-remaining")).toBe("0");

    // The production environment has its own bucket.
    expect((await api(server, "GET", "/api/v1/runs", { key: server.prodSecretKey })).status).toBe(200);
    // Unauthenticated requests are not counted against anyone: the route answers 401.
    expect((await api(server, "GET", "/api/v1/runs", { key: null })).status).toBe(401);
    // Exempt: the JWT claims route still answers.
    expect((await api(server, "POST", "/api/v1/auth/jwt/claims")).status).toBe(200);
  });
});
