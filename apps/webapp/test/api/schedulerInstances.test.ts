import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../support/testServer";
import { api, MODES } from "./support/api";
import { makeDue, registerVersion, runCountForTask, waitForTickRun } from "./support/schedules";

const SCHEDULER = { SCHEDULER_INTERVAL_MS: "50", SCHEDULER_LEASE_MS: "1500" };
/** Made due by hand, it fires once; its next tick is months away, so run counts cannot grow during the test. */
const YEARLY = "0 0 1 1 *";

/** Two webapp processes on the same databases and Redis: every tick has one run, and the scheduler survives losing an instance. */
describe.each(MODES)("scheduler across two instances ($mode)", ({ split }) => {
  let a: TestServer;
  let b: TestServer;

  beforeAll(async () => {
    a = await startTestServer({ split, env: SCHEDULER });
    b = await startTestServer({ sameDataAs: a, env: SCHEDULER });
    expect((await registerVersion(a, "1", [{ id: "two-instances" }, { id: "after-failover" }])).status).toBe(200);
  }, 120_000);
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
  }, 60_000);

  test("20 schedules due at once on two instances: one run each", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const created = await api(i % 2 ? b : a, "POST", "/api/v1/schedules", { body: { task: "two-instances", cron: YEARLY, externalId: `n${i}` } });
      expect(created.status).toBe(200);
      ids.push(created.body.id);
    }
    await Promise.all(ids.map((id) => makeDue(a, id)));
    const runIds = await Promise.all(ids.map((id) => waitForTickRun(a, id)));
    expect(new Set(runIds).size).toBe(20);
    expect(await runCountForTask(a, "two-instances")).toBe(20);
  });

  test("when an instance dies, the other takes the lease over and fires the next due tick", async () => {
    await a.kill();
    const created = await api(b, "POST", "/api/v1/schedules", { body: { task: "after-failover", cron: YEARLY } });
    expect(created.status).toBe(200);
    await makeDue(b, created.body.id);
    const runId = await waitForTickRun(b, created.body.id);
    expect(runId).toMatch(/^run_/);
    expect(await runCountForTask(b, "after-failover")).toBe(1);
    await a.restart();
  });
});
