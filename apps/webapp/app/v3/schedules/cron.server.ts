import { ValidationError } from "@runplane/core";
import { CronExpressionParser } from "cron-parser";
import cronstrue from "cronstrue";

/**
 * Cron evaluation for schedules, on `cron-parser` (five fields: minute hour day-of-month month
 * day-of-week; `L` and names allowed) in an IANA timezone. DST follows the library: a local time that
 * does not exist (spring forward) fires at the first instant after the gap, a local time that happens
 * twice (fall back) fires once, at its first occurrence. So `0 1 * * *` in Europe/London fires once
 * every day.
 */
export type CronSpec = { cron: string; timezone: string };

const UTC_NAMES = new Set(["UTC", "Etc/UTC"]);

export function isValidTimezone(timezone: string): boolean {
  if (UTC_NAMES.has(timezone)) return true;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}

/** Every IANA timezone name the server accepts, "UTC" first unless excluded. */
export function supportedTimezones(options: { excludeUtc?: boolean } = {}): string[] {
  const names = Intl.supportedValuesOf("timeZone").filter((name) => !UTC_NAMES.has(name));
  return options.excludeUtc ? names : ["UTC", ...names];
}

/**
 * Checks a cron expression and timezone; a bad one is a ValidationError naming the field
 * (`fieldPrefix` + "cron" / "timezone").
 */
export function parseCronSpec(cron: string, timezone: string | undefined, fieldPrefix = ""): CronSpec {
  const spec = { cron: cron.trim().replace(/\s+/g, " "), timezone: timezone?.trim() || "UTC" };
  if (!isValidTimezone(spec.timezone)) {
    throw new ValidationError(`${fieldPrefix}timezone: "${spec.timezone}" is not an IANA timezone name (GET /api/v1/timezones lists them)`);
  }
  const fields = spec.cron.split(" ").length;
  if (fields !== 5) {
    throw new ValidationError(`${fieldPrefix}cron: "${spec.cron}" must have 5 fields (minute hour day-of-month month day-of-week), got ${fields}`);
  }
  try {
    CronExpressionParser.parse(spec.cron, { tz: spec.timezone, strict: false }).next();
  } catch (error) {
    throw new ValidationError(`${fieldPrefix}cron: "${spec.cron}" is not a valid cron expression (${(error as Error).message})`);
  }
  return spec;
}

/** The next `count` ticks strictly after `after`. */
export function nextTicks(spec: CronSpec, after: Date, count: number): Date[] {
  const iterator = CronExpressionParser.parse(spec.cron, { tz: spec.timezone, currentDate: after });
  const ticks: Date[] = [];
  while (ticks.length < count && iterator.hasNext()) ticks.push(iterator.next().toDate());
  return ticks;
}

export function nextTick(spec: CronSpec, after: Date): Date | null {
  return nextTicks(spec, after, 1)[0] ?? null;
}

/** Steps beyond which a catch-up stops walking the missed ticks one by one (a year of minutes). */
const MAX_CATCH_UP_STEPS = 600_000;

export type DueTick = {
  /** The tick to fire now: the latest tick at or before `now` (the catch-up rule). */
  tick: Date;
  /** Due ticks before it that are skipped (downtime). */
  missed: number;
  /** The tick after `tick`, strictly after `now`. */
  next: Date | null;
};

/**
 * The catch-up rule: of all ticks from `dueAt` (the stored next tick, ≤ now) up to `now`, only the
 * latest fires; the earlier ones count as missed. After three hours down, a per-minute schedule
 * fires once, for the current minute. Walks forward (cron-parser's `prev()` misplaces ticks around
 * DST changes).
 */
export function dueTick(spec: CronSpec, dueAt: Date, now: Date): DueTick {
  const iterator = CronExpressionParser.parse(spec.cron, { tz: spec.timezone, currentDate: new Date(dueAt.getTime() - 1) });
  let tick = dueAt;
  let missed = -1;
  let next: Date | null = null;
  for (let steps = 0; iterator.hasNext(); steps++) {
    const candidate = iterator.next().toDate();
    if (candidate.getTime() > now.getTime()) {
      next = candidate;
      break;
    }
    if (steps >= MAX_CATCH_UP_STEPS) {
      // Too far behind to walk: fire the stored tick once and resume after now.
      return { tick: dueAt, missed, next: nextTick(spec, now) };
    }
    tick = candidate;
    missed++;
  }
  return { tick, missed: Math.max(missed, 0), next };
}

/** "At 01:00 AM", "Every 5 minutes"; the expression itself when it cannot be described. */
export function describeCron(cron: string): string {
  try {
    return cronstrue.toString(cron, { throwExceptionOnParseError: true, use24HourTimeFormat: true });
  } catch {
    return cron;
  }
}
