import { afterAll, beforeAll, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/testServer";
import { DEV_ENV_PATH, engineFor, get, loginAs, type EngineDriver } from "./helpers";

let server: TestServer;
let driver: EngineDriver;
let cookie: string;

beforeAll(async () => {
  server = await startTestServer({ split: true });
  driver = await engineFor(server);
  cookie = (await loginAs(server, "admin@localhost")).cookie;
});
afterAll(async () => {
  await driver?.close();
  await server?.stop();
});

it("split mode: the runs list and run page read the run-ops database; the admin debug page says where a run lives", async () => {
  const run = await driver.trigger(driver.dev, { taskIdentifier: "split-task", concurrencyKey: "k1" });
  expect(driver.store.residencyOf(run.id)).toBe("NEW");

  const list = await (await get(server, `${DEV_ENV_PATH}/runs`, cookie)).text();
  expect(list).toContain(run.friendlyId);
  expect((await get(server, `${DEV_ENV_PATH}/runs/${run.friendlyId}`, cookie)).status).toBe(200);

  const debug = await get(server, `/admin/runs/${run.friendlyId}`, cookie);
  expect(debug.status).toBe(200);
  const html = await debug.text();
  expect(html).toContain("run-ops database");
  expect(html).toContain("id shape <!-- -->NEW");
  expect(html).toContain(`${server.redis.keyPrefix}engine:runqueue:env:${driver.dev.id}:q:task/split-task:ck:k1`);
});
