import { afterAll, beforeAll, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/testServer";
import { csrfFrom, DEV_ENV_PATH, engineFor, get, loginAs, post, type EngineDriver } from "./helpers";

// Every trigger after the first in a 200 ms window is buffered, and nothing drains the buffer.
const BUFFERING = { MOLLIFIER_TRIP_THRESHOLD: "1", MOLLIFIER_DRAINER_ENABLED: "false", API_RATE_LIMIT_ENABLED: "false" };

let server: TestServer;
let driver: EngineDriver;
let cookie: string;
let buffered: string[];
let written: string[];

beforeAll(async () => {
  server = await startTestServer({ env: BUFFERING });
  driver = await engineFor(server);
  cookie = (await loginAs(server, "admin@localhost")).cookie;
  const ids = await Promise.all(
    Array.from({ length: 8 }, async (_, i) => {
      const response = await fetch(`${server.baseUrl}/api/v1/tasks/burst-task/trigger`, {
        method: "POST",
        headers: { authorization: `Bearer ${server.devSecretKey}`, "content-type": "application/json" },
        body: JSON.stringify({ payload: { i }, options: { tags: ["burst"] } }),
      });
      expect(response.status).toBe(200);
      return ((await response.json()) as { id: string }).id;
    })
  );
  const rows = await Promise.all(ids.map((id) => driver.store.findRun({ friendlyId: id })));
  buffered = ids.filter((_, i) => rows[i] === null);
  written = ids.filter((_, i) => rows[i] !== null);
});
afterAll(async () => {
  await driver?.close();
  await server?.stop();
});

it("buffered runs are listed with a Buffered badge, next to written ones", async () => {
  expect(buffered.length).toBeGreaterThan(0);
  const html = await (await get(server, `${DEV_ENV_PATH}/runs`, cookie)).text();
  for (const id of [...buffered, ...written]) expect(html).toContain(id);
  expect(html.match(/class="badge badge-buffered"/g)?.length).toBe(buffered.length);
  // Filters apply to buffered runs too.
  const none = await (await get(server, `${DEV_ENV_PATH}/runs?tag=other`, cookie)).text();
  for (const id of buffered) expect(none).not.toContain(id);
  const tagged = await (await get(server, `${DEV_ENV_PATH}/runs?tag=burst&statuses=QUEUED`, cookie)).text();
  for (const id of buffered) expect(tagged).toContain(id);
});

it("a buffered run's page says so, and Cancel marks it canceled in the buffer (CSRF required)", async () => {
  const id = buffered[0];
  const path = `${DEV_ENV_PATH}/runs/${id}`;
  const page = await get(server, path, cookie);
  expect(page.status).toBe(200);
  const html = await page.text();
  expect(html).toContain("trigger buffer");
  expect(html).toContain("&quot;i&quot;:"); // the payload, from the buffered trigger
  expect((await post(server, path, cookie, { intent: "cancel" })).status).toBe(403);
  const cancel = await post(server, path, cookie, { intent: "cancel", csrf: csrfFrom(html) });
  expect(cancel.status).toBe(200);
  expect(await cancel.text()).toContain("when the trigger buffer drains");
  const after = await (await get(server, path, cookie)).text();
  expect(after).toContain("Canceled");
  expect(after).not.toContain("Cancel run");
  expect(await driver.store.findRun({ friendlyId: id })).toBeNull();
});

it("the admin debug page shows the buffer entry of a buffered run", async () => {
  const id = buffered[buffered.length - 1];
  const page = await get(server, `/admin/runs/${id}`, cookie);
  expect(page.status).toBe(200);
  const html = await page.text();
  expect(html).toContain("is in the trigger buffer and has no row yet");
  expect(html).toContain("Status QUEUED");
  expect(html).toContain(`&quot;runId&quot;: &quot;${id}&quot;`);
  // A written run has no buffer entry.
  const row = await (await get(server, `/admin/runs/${written[0]}`, cookie)).text();
  expect(row).toContain("No entry in the trigger buffer.");
});
