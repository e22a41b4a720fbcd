import { classifyResidency } from "@runplane/core";
import { testSplitModeFromEnv } from "@internal/testcontainers";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import pg from "pg";
import { startTestServer, type TestServer } from "../support/testServer";
import { api, MODES, runRow } from "./support/api";
import { makeDue, registerVersion, runCountForTask, scheduleState, waitForTickRun, workerVersionCount } from "./support/schedules";

const FAST_SCHEDULER = { SCHEDULER_INTERVAL_MS: "100" };

/**
 * The schedules API over raw HTTP against a real server, in single and split mode: declarative
 * schedules following worker versions, refusals that change nothing, and ticks fired by the server's
 * own scheduler into the database minting says.
 */
describe.each(MODES)("schedules API ($mode)", ({ split }) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ split, env: FAST_SCHEDULER });
    expect((await registerVersion(server, "1", [{ id: "report" }, { id: "other" }])).status).toBe(200);
  }, 120_000);
  afterAll(async () => void (await server?.stop()), 60_000);

  const list = async (key = server.devSecretKey) => (await api(server, "GET", "/api/v1/schedules?perPage=100", { key })).body.data as any[];

  test("a declarative schedule appears on registration, follows the newest version, and disappears when it drops it", async () => {
    const nightly = { id: "nightly", schedule: { cron: "0 1 * * *", timezone: "Europe/London" } };
    expect((await registerVersion(server, "decl-1", [nightly, { id: "report" }])).status).toBe(200);
    const [created] = (await list()).filter((s) => s.type === "DECLARATIVE");
    expect(created).toMatchObject({
      id: expect.stringMatching(/^sched_/),
      type: "DECLARATIVE",
      task: "nightly",
      active: true,
      deduplicationKey: null,
      externalId: null,
      generator: { type: "CRON", expression: "0 1 * * *", description: "At 01:00" },
      timezone: "Europe/London",
      nextRun: expect.any(String),
    });

    // Declarative schedules change only through code.
    for (const [method, path, body] of [
      ["PUT", `/api/v1/schedules/${created.id}`, { task: "nightly", cron: "* * * * *" }],
      ["DELETE", `/api/v1/schedules/${created.id}`, undefined],
      ["POST", `/api/v1/schedules/${created.id}/deactivate`, undefined],
    ] as const) {
      const res = await api(server, method, path, { body });
      expect(res.status, `${method} ${path}`).toBe(422);
      expect(res.body.error).toMatch(/declarative/);
    }

    expect((await registerVersion(server, "decl-2", [{ ...nightly, schedule: { cron: "0 2 * * *" } }, { id: "report" }])).status).toBe(200);
    const updated = (await list()).filter((s) => s.type === "DECLARATIVE");
    expect(updated).toEqual([expect.objectContaining({ id: created.id, timezone: "UTC", generator: expect.objectContaining({ expression: "0 2 * * *" }) })]);

    // Registering an older version again does not roll the schedule back.
    expect((await registerVersion(server, "decl-1", [nightly, { id: "report" }])).status).toBe(200);
    expect((await list()).filter((s) => s.type === "DECLARATIVE")[0].generator.expression).toBe("0 2 * * *");

    // A bad cron refuses the whole registration (400 naming the task's field) and registers nothing.
    const versions = await workerVersionCount(server);
    const bad = await registerVersion(server, "decl-bad", [{ id: "nightly", schedule: { cron: "0 25 * * *" } }]);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/task "nightly" schedule\.cron/);
    const badTz = await registerVersion(server, "decl-bad", [{ id: "nightly", schedule: { cron: "0 1 * * *", timezone: "Nowhere/Land" } }]);
    expect(badTz.status).toBe(400);
    expect(badTz.body.error).toMatch(/task "nightly" schedule\.timezone/);
    expect(await workerVersionCount(server)).toBe(versions);

    expect((await registerVersion(server, "decl-3", [{ id: "nightly" }, { id: "report" }, { id: "other" }])).status).toBe(200);
    expect((await list()).filter((s) => s.type === "DECLARATIVE")).toEqual([]);
    expect((await api(server, "GET", `/api/v1/schedules/${created.id}`)).status).toBe(404);
  });

  test("refusals: bad cron, timezone, task or body → 400 naming the field; another environment's schedule → 404; nothing changes", async () => {
    const create = (body: unknown, key?: string) => api(server, "POST", "/api/v1/schedules", { body, key });
    const cases: Array<[unknown, RegExp]> = [
      [{ task: "report", cron: "61 * * * *" }, /^cron: /],
      [{ task: "report", cron: "* * * * * *" }, /^cron: .*5 fields/],
      [{ task: "report", cron: "* * * * *", timezone: "Europe/Atlantis" }, /^timezone: /],
      [{ task: "no-such-task", cron: "* * * * *" }, /^task: /],
      [{ cron: "* * * * *" }, /task/],
      [{ task: "report", cron: "* * * * *", window: "30m" }, /window/],
    ];
    for (const [body, message] of cases) {
      const res = await create(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error, JSON.stringify(body)).toMatch(message);
    }
    expect((await api(server, "POST", "/api/v1/schedules", { rawBody: "{not json" })).status).toBe(400);
    expect((await api(server, "GET", "/api/v1/schedules?perPage=0")).status).toBe(400);
    expect((await create({ task: "report", cron: "* * * * *" }, null as never)).status).toBe(401);

    const mine = await create({ task: "report", cron: "0 0 1 1 *", externalId: "x-1" }); // yearly: no tick changes it mid-test
    expect(mine.status).toBe(200);
    const before = (await api(server, "GET", `/api/v1/schedules/${mine.body.id}`)).body;
    const prod = server.prodSecretKey;
    for (const [method, path, body] of [
      ["GET", `/api/v1/schedules/${mine.body.id}`, undefined],
      ["PUT", `/api/v1/schedules/${mine.body.id}`, { task: "report", cron: "* * * * *" }],
      ["DELETE", `/api/v1/schedules/${mine.body.id}`, undefined],
      ["POST", `/api/v1/schedules/${mine.body.id}/deactivate`, undefined],
      ["POST", `/api/v1/schedules/${mine.body.id}/activate`, undefined],
    ] as const) {
      const res = await api(server, method, path, { body, key: prod });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.error).toMatch(/not found/i);
    }
    expect((await list(prod)).map((s) => s.id)).not.toContain(mine.body.id);
    expect((await api(server, "GET", `/api/v1/schedules/${mine.body.id}`)).body).toEqual(before);
    const updateBad = await api(server, "PUT", `/api/v1/schedules/${mine.body.id}`, { body: { task: "report", cron: "nope" } });
    expect(updateBad.status).toBe(400);
    expect((await api(server, "GET", `/api/v1/schedules/${mine.body.id}`)).body).toEqual(before);
  });

  test("a due tick triggers exactly one run, in the database minting says, with the scheduled payload; /metrics counts it", async () => {
    const created = await api(server, "POST", "/api/v1/schedules", { body: { task: "other", cron: "0 0 1 1 *", externalId: "tenant-9" } });
    expect(created.status).toBe(200);
    const tick = await makeDue(server, created.body.id);
    const runId = await waitForTickRun(server, created.body.id);
    expect(classifyResidency(runId)).toBe(split ? "NEW" : "LEGACY");
    const row = (await runRow(server, runId))!;
    expect(row.taskIdentifier).toBe("other");
    const payload = JSON.parse(row.payload);
    expect(payload).toMatchObject({ scheduleId: created.body.id, type: "IMPERATIVE", externalId: "tenant-9", timezone: "UTC" });
    expect(Date.parse(payload.timestamp)).toBeGreaterThanOrEqual(tick.getTime());
    expect(payload.upcoming).toHaveLength(10);
    // Yearly: the next tick is months away, so a second run here would be a duplicate.
    expect(row.idempotencyKey).toBe(`schedule:${created.body.id}:${payload.timestamp}`);
    expect(await runCountForTask(server, "other")).toBe(1);
    expect((await scheduleState(server, created.body.id))!.nextTickAt).not.toBeNull();

    const metrics = await fetch(`${server.baseUrl}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/runplane_schedule_ticks_fired_total [1-9]/);
    expect(metrics).toMatch(/runplane_scheduler_lag_ms \d+/);
  });

  test("GET /api/v1/timezones needs no key; UTC first unless excluded", async () => {
    const all = await api(server, "GET", "/api/v1/timezones", { key: null });
    expect(all.status).toBe(200);
    expect(all.body.timezones[0]).toBe("UTC");
    expect(all.body.timezones).toContain("Europe/London");
    const noUtc = await api(server, "GET", "/api/v1/timezones?excludeUtc=true", { key: null });
    expect(noUtc.body.timezones).not.toContain("UTC");
    expect(noUtc.body.timezones).toContain("America/New_York");
  });
});

// The default pass runs the suite above in single mode only: the tick's residency is checked in split mode here too.
describe.skipIf(testSplitModeFromEnv())("schedules (split mode)", () => {
  test("a tick's run is minted NEW and written to the run-ops database, never the control plane", async () => {
    const server = await startTestServer({ split: true, env: FAST_SCHEDULER });
    try {
      expect((await registerVersion(server, "1", [{ id: "split-tick" }])).status).toBe(200);
      const created = await api(server, "POST", "/api/v1/schedules", { body: { task: "split-tick", cron: "*/5 * * * *" } });
      await makeDue(server, created.body.id, new Date(Math.floor(Date.now() / 300_000) * 300_000));
      const runId = await waitForTickRun(server, created.body.id);
      expect(classifyResidency(runId)).toBe("NEW");
      expect(await rowsIn(server.runOpsDatabaseUrl!, runId)).toBe(1);
      expect(await rowsIn(server.databaseUrl, runId)).toBe(0);
    } finally {
      await server.stop();
    }
  }, 120_000);
});

async function rowsIn(url: string, runId: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(`SELECT 1 FROM "TaskRun" WHERE "friendlyId" = $1`, [runId])).rowCount ?? 0;
  } finally {
    await client.end();
  }
}
