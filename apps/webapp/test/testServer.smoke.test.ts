import { expect } from "vitest";
import { serverTest } from "./support/testServer";

serverTest("a test server boots on its own databases and answers with the bootstrapped keys", async ({ server }) => {
  const health = await fetch(`${server.baseUrl}/healthcheck`);
  expect(health.status).toBe(200);
  expect(server.output().stdout).toContain(server.devSecretKey);
});
