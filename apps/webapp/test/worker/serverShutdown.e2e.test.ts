import { expect } from "vitest";
import { serverTest } from "../support/testServer";

serverTest("a stopping server answers held worker long-polls at once and exits 0", async ({ server }) => {
  const held = fetch(`${server.baseUrl}/api/v1/worker/dequeue`, {
    method: "POST",
    headers: { authorization: `Bearer ${server.devSecretKey}`, "content-type": "application/json" },
    body: JSON.stringify({ maxRuns: 1, waitMs: 30_000 }),
  }).then(async (res) => ({ status: res.status, body: await res.json(), at: Date.now() }));
  await new Promise((r) => setTimeout(r, 500));
  const stoppingAt = Date.now();
  const exitCode = server.stop();
  const answer = await held;
  expect(answer.status).toBe(200);
  expect(answer.body).toEqual({ runs: [] });
  expect(answer.at - stoppingAt).toBeLessThan(5_000);
  expect(await exitCode).toBe(0);
});
