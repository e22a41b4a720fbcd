import { ValidationError } from "@runplane/core/errors";
import { task, type RunParams, type Task, type TaskOptions } from "./task.js";

/** What a scheduled run receives (the server sends ISO strings; the run gets Dates). */
export type ScheduledTaskPayload = {
  scheduleId: string;
  type: "DECLARATIVE" | "IMPERATIVE";
  /** The tick this run is for. */
  timestamp: Date;
  /** The schedule's previous tick, absent on its first run. */
  lastTimestamp?: Date;
  externalId?: string;
  /** IANA name the cron is evaluated in. */
  timezone: string;
  /** The next ten ticks. */
  upcoming: Date[];
};

/** A cron pattern (evaluated in UTC) or a pattern with its IANA timezone. */
export type ScheduleCron = string | { pattern: string; timezone?: string };

export type ScheduledTaskOptions<TOutput> = Omit<TaskOptions<ScheduledTaskPayload, TOutput>, "run"> & {
  /** Declarative schedule: created, changed or removed with each worker version. Without it, attach schedules through the API. */
  cron?: ScheduleCron;
  run: (payload: ScheduledTaskPayload, params: RunParams) => TOutput | Promise<TOutput>;
};

function toDate(value: unknown): Date | undefined {
  if (value === undefined || value === null) return undefined;
  const date = value instanceof Date ? value : new Date(String(value));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** The wire payload (dates as ISO strings) as the run sees it. */
export function toScheduledTaskPayload(raw: unknown): ScheduledTaskPayload {
  const value = (raw ?? {}) as Record<string, unknown>;
  return {
    scheduleId: String(value.scheduleId ?? ""),
    type: value.type === "DECLARATIVE" ? "DECLARATIVE" : "IMPERATIVE",
    timestamp: toDate(value.timestamp) ?? new Date(NaN),
    lastTimestamp: toDate(value.lastTimestamp),
    externalId: typeof value.externalId === "string" ? value.externalId : undefined,
    timezone: typeof value.timezone === "string" ? value.timezone : "UTC",
    upcoming: Array.isArray(value.upcoming) ? value.upcoming.map(toDate).filter((d): d is Date => d !== undefined) : [],
  };
}

function scheduleOf(id: string, cron: ScheduleCron | undefined): Task["schedule"] {
  if (cron === undefined) return undefined;
  const pattern = typeof cron === "string" ? cron : cron?.pattern;
  const timezone = typeof cron === "string" ? undefined : cron?.timezone;
  if (typeof pattern !== "string" || pattern.trim() === "") {
    throw new ValidationError(`Invalid scheduled task "${id}": cron must be a pattern or { pattern, timezone }`);
  }
  if (timezone !== undefined && (typeof timezone !== "string" || timezone.trim() === "")) {
    throw new ValidationError(`Invalid scheduled task "${id}": cron.timezone must be an IANA timezone name`);
  }
  return timezone ? { cron: pattern.trim(), timezone: timezone.trim() } : { cron: pattern.trim() };
}

/**
 * A task run by cron ticks. With `cron`, the schedule is declarative: registering the worker creates
 * or updates it, and a later version without it removes it. The server checks the pattern and timezone
 * when the worker registers.
 */
function scheduledTask<TOutput = unknown>(options: ScheduledTaskOptions<TOutput>): Task<ScheduledTaskPayload, TOutput> {
  const { cron, run, ...rest } = options;
  const schedule = scheduleOf(options.id, cron);
  const base = task<ScheduledTaskPayload, TOutput>({ ...rest, run: (payload, params) => run(toScheduledTaskPayload(payload), params) });
  return Object.freeze({ ...base, schedule });
}

export const schedules = { task: scheduledTask };
