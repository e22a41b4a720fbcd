import { describe, expect, it } from "vitest";
import { ValidationError } from "@runplane/core/errors";
import { schedules, toScheduledTaskPayload } from "../src/schedules.js";
import { isTask, toTaskDefinition } from "../src/task.js";
import { WorkerRegisterRequest } from "../src/protocol.js";

describe("schedules.task()", () => {
  it("a cron string or { pattern, timezone } becomes the task's declarative schedule in its register definition", () => {
    const utc = schedules.task({ id: "hourly", cron: "0 * * * *", run: async () => "ok" });
    const london = schedules.task({ id: "nightly", cron: { pattern: "0 1 * * *", timezone: "Europe/London" }, queue: { name: "night" }, run: async () => "ok" });
    const attachable = schedules.task({ id: "per-user", run: async () => "ok" });
    expect([utc, london, attachable].every(isTask)).toBe(true);
    expect(toTaskDefinition({ task: utc }).schedule).toEqual({ cron: "0 * * * *" });
    expect(toTaskDefinition({ task: london })).toEqual({ id: "nightly", queue: { name: "night" }, schedule: { cron: "0 1 * * *", timezone: "Europe/London" } });
    expect(toTaskDefinition({ task: attachable }).schedule).toBeUndefined();
    const body = { version: "1", tasks: [utc, london, attachable].map((task) => toTaskDefinition({ task })) };
    expect(WorkerRegisterRequest.safeParse(body).success).toBe(true);
  });

  it("refuses an empty pattern or timezone when the task is defined", () => {
    expect(() => schedules.task({ id: "x", cron: "  ", run: async () => 1 })).toThrow(ValidationError);
    expect(() => schedules.task({ id: "x", cron: { pattern: "* * * * *", timezone: "" }, run: async () => 1 })).toThrow(/timezone/);
  });

  it("the run gets the wire payload with Dates", async () => {
    const seen: unknown[] = [];
    const t = schedules.task({ id: "probe", run: async (payload) => void seen.push(payload) });
    await t.run(
      {
        scheduleId: "sched_1",
        type: "IMPERATIVE",
        timestamp: "2026-06-01T12:00:00.000Z",
        timezone: "UTC",
        upcoming: ["2026-06-01T12:01:00.000Z"],
      } as never,
      {} as never
    );
    expect(seen[0]).toEqual({
      scheduleId: "sched_1",
      type: "IMPERATIVE",
      timestamp: new Date("2026-06-01T12:00:00Z"),
      lastTimestamp: undefined,
      externalId: undefined,
      timezone: "UTC",
      upcoming: [new Date("2026-06-01T12:01:00Z")],
    });
    expect(toScheduledTaskPayload({ type: "DECLARATIVE", lastTimestamp: "2026-06-01T11:00:00Z" })).toMatchObject({ type: "DECLARATIVE", lastTimestamp: new Date("2026-06-01T11:00:00Z") });
  });
});
