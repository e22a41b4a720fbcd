import { afterEach, describe, expect, test } from "vitest";
import { renderPrometheus } from "~/services/metrics.server";
import type { TickOutcome } from "~/v3/schedules/scheduler.server";
import { setupSchedulerHarness, type SchedulerHarness } from "./harness";

/**
 * The scheduler driven by a manual clock against real Postgres, Redis and the production trigger
 * path: no test waits for a real minute.
 */
describe("scheduler (injected clock)", () => {
  let h: SchedulerHarness;
  afterEach(async () => {
    await h?.close();
  });

  const fired = (outcomes: TickOutcome[]) => outcomes.filter((o) => o.kind === "fired").map((o) => o.tick.toISOString());

  test("a per-minute schedule fires at each minute boundary exactly once, with trigger.dev's payload", async () => {
    h = await setupSchedulerHarness("2026-06-01T12:00:30Z");
    await h.registerTasks(h.dev, [{ id: "every-minute", queue: { name: "cron-queue" } }]);
    const schedule = await h.service.create(h.dev, { task: "every-minute", cron: "* * * * *", externalId: "user-7" });
    expect(schedule.nextTickAt?.toISOString()).toBe("2026-06-01T12:01:00.000Z");
    const scheduler = h.newScheduler();

    h.clock.set("2026-06-01T12:00:59.999Z");
    expect(fired((await scheduler.runPass()).outcomes)).toEqual([]);
    h.clock.set("2026-06-01T12:01:00Z");
    expect(fired((await scheduler.runPass()).outcomes)).toEqual(["2026-06-01T12:01:00.000Z"]);
    h.clock.set("2026-06-01T12:01:40Z");
    expect(fired((await scheduler.runPass()).outcomes)).toEqual([]);
    h.clock.set("2026-06-01T12:02:00.500Z");
    expect(fired((await scheduler.runPass()).outcomes)).toEqual(["2026-06-01T12:02:00.000Z"]);
    h.clock.set("2026-06-01T12:02:59Z");
    expect(fired((await scheduler.runPass()).outcomes)).toEqual([]);

    const runs = await h.runs("every-minute");
    expect(runs).toHaveLength(2);
    expect(runs[0]!.payload).toEqual({
      scheduleId: schedule.friendlyId,
      type: "IMPERATIVE",
      timestamp: "2026-06-01T12:01:00.000Z",
      externalId: "user-7",
      timezone: "UTC",
      upcoming: Array.from({ length: 10 }, (_, i) => new Date(Date.parse("2026-06-01T12:02:00Z") + i * 60_000).toISOString()),
    });
    expect(runs[1]!.payload).toMatchObject({ timestamp: "2026-06-01T12:02:00.000Z", lastTimestamp: "2026-06-01T12:01:00.000Z" });
    // Trigger options come from the task: its queue.
    expect(runs.map((r) => r.queue)).toEqual(["cron-queue", "cron-queue"]);
    expect(runs[0]!.idempotencyKey).toBe(`schedule:${schedule.friendlyId}:2026-06-01T12:01:00.000Z`);

    const row = await h.runtime.prisma.taskSchedule.findUniqueOrThrow({ where: { id: schedule.id } });
    expect(row).toMatchObject({ lastRunFriendlyId: runs[1]!.friendlyId, nextTickAt: new Date("2026-06-01T12:03:00Z") });

    const metrics = await renderPrometheus();
    expect(metrics).toMatch(/runplane_schedule_ticks_fired_total \d+/);
    expect(metrics).toMatch(/runplane_scheduler_lag_ms \d+/);
  });

  test("0 1 * * * in Europe/London fires once a day across both DST changes", async () => {
    h = await setupSchedulerHarness("2026-03-27T12:00:00Z");
    await h.registerTasks(h.dev, [{ id: "nightly" }]);
    await h.service.create(h.dev, { task: "nightly", cron: "0 1 * * *", timezone: "Europe/London" });
    const scheduler = h.newScheduler();
    const ticks: string[] = [];
    const walk = async (from: string, to: string) => {
      for (let t = Date.parse(from); t <= Date.parse(to); t += 30 * 60_000) {
        h.clock.set(new Date(t));
        ticks.push(...fired((await scheduler.runPass()).outcomes));
      }
    };
    // Spring forward on 29 March: 01:00 local does not exist; the tick fires as the clocks jump (01:00 UTC = 02:00 BST).
    await walk("2026-03-27T12:00:00Z", "2026-03-31T12:00:00Z");
    expect(ticks).toEqual(["2026-03-28T01:00:00.000Z", "2026-03-29T01:00:00.000Z", "2026-03-30T00:00:00.000Z", "2026-03-31T00:00:00.000Z"]);

    // Fall back on 25 October: 01:00 local happens twice; it fires once, at the first (00:00 UTC).
    ticks.length = 0;
    h.clock.set("2026-10-23T12:00:00Z");
    const [schedule] = await h.runtime.prisma.taskSchedule.findMany();
    await h.service.update(h.dev, schedule!.friendlyId, { task: "nightly", cron: "0 1 * * *", timezone: "Europe/London" });
    await h.runtime.prisma.taskSchedule.update({ where: { id: schedule!.id }, data: { nextTickAt: new Date("2026-10-24T00:00:00Z") } });
    await walk("2026-10-23T12:00:00Z", "2026-10-27T12:00:00Z");
    expect(ticks).toEqual(["2026-10-24T00:00:00.000Z", "2026-10-25T00:00:00.000Z", "2026-10-26T01:00:00.000Z", "2026-10-27T01:00:00.000Z"]);
    expect(await h.runs("nightly")).toHaveLength(8);
  });

  test("after 3 hours down, one catch-up run for the latest missed tick", async () => {
    h = await setupSchedulerHarness("2026-06-01T11:59:30Z");
    await h.registerTasks(h.dev, [{ id: "every-minute" }]);
    await h.service.create(h.dev, { task: "every-minute", cron: "* * * * *" });
    const scheduler = h.newScheduler();
    h.clock.set("2026-06-01T12:00:00Z");
    expect(fired((await scheduler.runPass()).outcomes)).toEqual(["2026-06-01T12:00:00.000Z"]);

    h.clock.set("2026-06-01T15:00:30Z"); // down from 12:00:01 to 15:00:30
    const pass = await scheduler.runPass();
    expect(pass.outcomes).toEqual([expect.objectContaining({ kind: "fired", tick: new Date("2026-06-01T15:00:00Z"), missed: 179 })]);
    h.clock.set("2026-06-01T15:00:50Z");
    expect(fired((await scheduler.runPass()).outcomes)).toEqual([]);

    const runs = await h.runs("every-minute");
    expect(runs).toHaveLength(2);
    expect(runs[1]!.payload).toMatchObject({ timestamp: "2026-06-01T15:00:00.000Z", lastTimestamp: "2026-06-01T12:00:00.000Z" });
    expect(await renderPrometheus()).toMatch(/runplane_schedule_ticks_skipped_total\{reason="missed"\} (179|[2-9]\d\d|\d{4,})/);
  });

  test("an inactive schedule and a paused environment skip their ticks; re-activated, it starts at the next tick", async () => {
    h = await setupSchedulerHarness("2026-06-01T12:00:30Z");
    await h.registerTasks(h.dev, [{ id: "every-minute" }]);
    const schedule = await h.service.create(h.dev, { task: "every-minute", cron: "* * * * *" });
    const scheduler = h.newScheduler();

    await h.service.setActive(h.dev, schedule.friendlyId, false);
    h.clock.set("2026-06-01T12:01:00Z");
    expect((await scheduler.runPass()).outcomes).toEqual([]);

    h.clock.set("2026-06-01T12:01:30Z");
    const reactivated = await h.service.setActive(h.dev, schedule.friendlyId, true);
    expect(reactivated.nextTickAt?.toISOString()).toBe("2026-06-01T12:02:00.000Z");

    await h.runtime.prisma.runtimeEnvironment.update({ where: { id: h.dev.id }, data: { paused: true } });
    h.runtime.resolver.invalidateEnv(h.dev.id);
    h.clock.set("2026-06-01T12:02:00Z");
    expect((await scheduler.runPass()).outcomes).toEqual([
      expect.objectContaining({ kind: "skipped", reason: "environment_paused", tick: new Date("2026-06-01T12:02:00Z") }),
    ]);

    await h.runtime.prisma.runtimeEnvironment.update({ where: { id: h.dev.id }, data: { paused: false } });
    h.runtime.resolver.invalidateEnv(h.dev.id);
    h.clock.set("2026-06-01T12:03:00Z");
    expect(fired((await scheduler.runPass()).outcomes)).toEqual(["2026-06-01T12:03:00.000Z"]);
    expect(await h.runs("every-minute")).toHaveLength(1);
    expect(await renderPrometheus()).toMatch(/runplane_schedule_ticks_skipped_total\{reason="environment_paused"\} [1-9]/);
  });

  test("two scheduler instances: one fires under the lease, and a re-fired tick (crash before the state was saved) answers the same run", async () => {
    h = await setupSchedulerHarness("2026-06-01T12:00:30Z");
    await h.registerTasks(h.dev, [{ id: "every-minute" }]);
    const schedule = await h.service.create(h.dev, { task: "every-minute", cron: "* * * * *" });
    const a = h.newScheduler();
    const b = h.newScheduler();

    for (let minute = 1; minute <= 5; minute++) {
      h.clock.set(new Date(Date.parse("2026-06-01T12:00:00Z") + minute * 60_000));
      const [pa, pb] = await Promise.all([a.runPass(), b.runPass()]);
      expect([pa.leaseHeld, pb.leaseHeld].filter(Boolean)).toHaveLength(1);
      expect([...fired(pa.outcomes), ...fired(pb.outcomes)]).toHaveLength(1);
    }
    const runs = await h.runs("every-minute");
    expect(runs.map((r) => r.payload.timestamp)).toEqual(
      [1, 2, 3, 4, 5].map((m) => new Date(Date.parse("2026-06-01T12:00:00Z") + m * 60_000).toISOString())
    );

    // Instance A fired 12:05 and crashed before saving the next tick: its lease expires, B takes over.
    await h.runtime.prisma.taskSchedule.update({ where: { id: schedule.id }, data: { nextTickAt: new Date("2026-06-01T12:05:00Z") } });
    await h.runtime.redis.del(`${h.redis.keyPrefix}scheduler:lease`);
    h.clock.set("2026-06-01T12:05:10Z");
    const refired = await b.runPass();
    expect(refired.outcomes).toEqual([expect.objectContaining({ kind: "fired", isCached: true, runId: runs[4]!.friendlyId })]);
    expect(await h.runs("every-minute")).toHaveLength(5);
  });

  test("another environment's schedule is not found; bad task, cron or timezone is a 400 naming the field", async () => {
    h = await setupSchedulerHarness("2026-06-01T12:00:30Z");
    await h.registerTasks(h.dev, [{ id: "every-minute" }]);
    const schedule = await h.service.create(h.dev, { task: "every-minute", cron: "* * * * *" });
    await expect(h.service.find(h.prod, schedule.friendlyId)).rejects.toMatchObject({ status: 404 });
    await expect(h.service.setActive(h.prod, schedule.friendlyId, false)).rejects.toMatchObject({ status: 404 });
    await expect(h.service.create(h.prod, { task: "every-minute", cron: "* * * * *" })).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/^task:/) });
    await expect(h.service.create(h.dev, { task: "every-minute", cron: "* * *" })).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/^cron:/) });
    await expect(h.service.create(h.dev, { task: "every-minute", cron: "* * * * *", timezone: "Mars/Base" })).rejects.toMatchObject({
      status: 400,
      message: expect.stringMatching(/^timezone:/),
    });
  });
});
