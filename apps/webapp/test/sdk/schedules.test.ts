import * as worker from "@runplane/worker";
import { NotFoundError, configure, runs, schedules } from "@trigger.dev/sdk";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { MODES, waitFor } from "../api/support/api";
import { makeDue, runCountForTask, scheduleState, waitForTickRun } from "../api/support/schedules";
import { startTestServer, type TestServer } from "../support/testServer";

/**
 * `schedules.*` of the published @trigger.dev/sdk 4.8.3, unmodified, against a real server whose
 * scheduler fires due ticks; runs are executed by a real @runplane/worker defining `schedules.task`s.
 */
describe.each(MODES)("schedules through the published SDK ($mode)", ({ split }) => {
  let server: TestServer;
  let running: worker.RunningWorker;

  const reporter = worker.schedules.task({
    id: "sdk-scheduled",
    run: async (payload) => ({
      scheduleId: payload.scheduleId,
      externalId: payload.externalId ?? null,
      timestampIsDate: payload.timestamp instanceof Date,
      timestamp: payload.timestamp.toISOString(),
      upcoming: payload.upcoming.length,
      timezone: payload.timezone,
    }),
  });
  const companion = worker.schedules.task({ id: "sdk-companion", run: async (payload) => payload.timestamp.toISOString() });
  const nightly = worker.schedules.task({ id: "sdk-nightly", cron: { pattern: "0 1 * * *", timezone: "Europe/London" }, run: async () => "ok" });

  beforeAll(async () => {
    server = await startTestServer({ split, env: { SCHEDULER_INTERVAL_MS: "100" } });
    running = await worker.startWorker({
      apiUrl: server.baseUrl,
      secretKey: server.devSecretKey,
      tasks: [reporter, companion, nightly],
      concurrency: 5,
      pollWaitMs: 1_000,
      shutdownTimeoutMs: 5_000,
      logLevel: "warn",
    });
  }, 120_000);
  afterAll(async () => {
    await running?.stop();
    await server?.stop();
  }, 60_000);
  beforeEach(() => {
    configure({ baseURL: server.baseUrl, accessToken: server.devSecretKey });
  });

  test("create (with and without deduplicationKey), list, update, deactivate, activate, delete; ticks run the task", async () => {
    const first = await schedules.create({ task: "sdk-scheduled", cron: "0 * * * *", deduplicationKey: "tenant-1", externalId: "tenant-1" });
    expect(first).toMatchObject({ type: "IMPERATIVE", task: "sdk-scheduled", active: true, deduplicationKey: "tenant-1", externalId: "tenant-1", timezone: "UTC" });
    expect(first.nextRun).toBeInstanceOf(Date);
    // The same key again is an upsert.
    // Yearly: once made due by hand it fires once, and its next tick is months away (no extra runs during the test).
    const again = await schedules.create({ task: "sdk-scheduled", cron: "0 0 1 1 *", deduplicationKey: "tenant-1", externalId: "tenant-1", timezone: "Europe/London" });
    expect(again.id).toBe(first.id);
    expect(again).toMatchObject({ generator: { expression: "0 0 1 1 *", description: expect.stringMatching(/January/) }, timezone: "Europe/London" });
    const other = await schedules.create({ task: "sdk-companion", cron: "* * * * *" } as Parameters<typeof schedules.create>[0]);
    expect(other.id).not.toBe(first.id);
    expect(other.deduplicationKey ?? null).toBeNull();

    // Paged list (the declarative schedule of sdk-nightly is there too).
    const page = await schedules.list({ perPage: 2 });
    expect(page.pagination).toMatchObject({ currentPage: 1, count: 3, totalPages: 2 });
    const all = [];
    for await (const schedule of schedules.list({ perPage: 2 })) all.push(schedule);
    expect(all.map((s) => s.task).sort()).toEqual(["sdk-companion", "sdk-nightly", "sdk-scheduled"]);
    expect(all.find((s) => s.task === "sdk-nightly")).toMatchObject({ type: "DECLARATIVE", timezone: "Europe/London", generator: { expression: "0 1 * * *" } });

    // A due tick runs the task; it gets Dates and the schedule's ids.
    await makeDue(server, first.id);
    const runId = await waitForTickRun(server, first.id);
    const done = await runs.poll(runId, { pollIntervalMs: 200 });
    expect(done.status).toBe("COMPLETED");
    expect(done.output).toMatchObject({ scheduleId: first.id, externalId: "tenant-1", timestampIsDate: true, upcoming: 10, timezone: "Europe/London" });
    expect(done.schedule).toMatchObject({ id: first.id, externalId: "tenant-1", deduplicationKey: "tenant-1", generator: { type: "CRON", expression: "0 0 1 1 *" } });
    const listed = [];
    for await (const run of runs.list({ schedule: first.id })) listed.push(run.id);
    expect(listed).toEqual([runId]);

    const updated = await schedules.update(first.id, { task: "sdk-scheduled", cron: "*/5 * * * *", externalId: "tenant-1b" });
    expect(updated).toMatchObject({ id: first.id, externalId: "tenant-1b", generator: { expression: "*/5 * * * *", description: "Every 5 minutes" } });
    expect((await schedules.retrieve(first.id)).generator.expression).toBe("*/5 * * * *");

    // Deactivated: its ticks never fire, while the companion's tick due at the same time does.
    const deactivated = await schedules.deactivate(first.id);
    expect(deactivated.active).toBe(false);
    expect(deactivated.nextRun ?? null).toBeNull();
    const runsBefore = await runCountForTask(server, "sdk-scheduled");
    await makeDue(server, first.id);
    await makeDue(server, other.id);
    await waitForTickRun(server, other.id);
    expect(await runCountForTask(server, "sdk-scheduled")).toBe(runsBefore);
    expect((await scheduleState(server, first.id))!.lastRunFriendlyId).toBe(runId);

    const activated = await schedules.activate(first.id);
    expect(activated.active).toBe(true);
    expect(activated.nextRun).toBeInstanceOf(Date);
    // A minute half an hour from the first tick's, so the next tick due is a different one (same tick = same run).
    const firstMinute = new Date((done.output as { timestamp: string }).timestamp).getUTCMinutes();
    await schedules.update(first.id, { task: "sdk-scheduled", cron: `${(firstMinute + 30) % 60} * * * *`, externalId: "tenant-1b" });
    await makeDue(server, first.id, new Date(Date.now() - 2 * 3_600_000));
    const secondRun = await waitForTickRun(server, first.id, runId);
    expect(secondRun).not.toBe(runId);
    expect((await runs.poll(secondRun, { pollIntervalMs: 200 })).output).toMatchObject({ scheduleId: first.id, externalId: "tenant-1b" });

    expect(await schedules.del(first.id)).toEqual({ id: first.id });
    await expect(schedules.retrieve(first.id)).rejects.toBeInstanceOf(NotFoundError);
    await waitFor(async () => !(await scheduleState(server, first.id)), 5_000, "schedule row gone");
  });

  test("timezones lists IANA names with UTC first", async () => {
    const { timezones } = await schedules.timezones();
    expect(timezones[0]).toBe("UTC");
    expect(timezones).toContain("Europe/London");
    expect((await schedules.timezones({ excludeUtc: true })).timezones).not.toContain("UTC");
  });
});
