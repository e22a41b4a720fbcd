import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestServer, type TestServer } from "./support/testServer";

/**
 * Two deployments on one Redis with the same REDIS_KEY_PREFIX once drained each other's buffered
 * triggers into the wrong database. Now the second refuses to start, naming REDIS_KEY_PREFIX, and the
 * first is untouched and may restart.
 */
describe("one deployment per Redis keyspace", () => {
  let first: TestServer;

  beforeAll(async () => {
    first = await startTestServer();
  }, 120_000);
  afterAll(async () => void (await first?.stop()), 60_000);

  test("a second deployment with its own database but the same prefix refuses to start", async () => {
    const second = startTestServer({ env: { REDIS_KEY_PREFIX: first.redis.keyPrefix } });
    await expect(second).rejects.toThrow(/REDIS_KEY_PREFIX "[^"]+" in REDIS_URL belongs to another deployment/);
  }, 120_000);

  test("the first deployment keeps serving and restarts on its own claim", async () => {
    await first.kill();
    await first.restart();
    const res = await fetch(`${first.baseUrl}/api/v1/tasks/hello/trigger`, {
      method: "POST",
      headers: { authorization: `Bearer ${first.devSecretKey}`, "content-type": "application/json" },
      body: JSON.stringify({ payload: {} }),
    });
    expect(res.status).toBe(200);
  }, 120_000);
});
