export type WaitDuration = {
  seconds?: number;
  minutes?: number;
  hours?: number;
  days?: number;
  weeks?: number;
  months?: number;
  years?: number;
};

const UNIT_MS = {
  seconds: 1_000,
  minutes: 60_000,
  hours: 3_600_000,
  days: 86_400_000,
  weeks: 7 * 86_400_000,
  months: 30 * 86_400_000,
  years: 365 * 86_400_000,
} as const;

/** Milliseconds in a `{ seconds, minutes, … }` object. Refuses negative, non-finite and empty durations. */
export function durationToMs(duration: WaitDuration): number {
  if (typeof duration !== "object" || duration === null) throw new TypeError("wait.for needs an object like { seconds: 30 }");
  let total = 0;
  let any = false;
  for (const [unit, value] of Object.entries(duration)) {
    if (value === undefined) continue;
    if (!(unit in UNIT_MS)) throw new TypeError(`wait.for: unknown unit "${unit}"`);
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
      throw new TypeError(`wait.for: ${unit} must be a non-negative number`);
    }
    total += value * UNIT_MS[unit as keyof typeof UNIT_MS];
    any = true;
  }
  if (!any) throw new TypeError("wait.for needs at least one of seconds, minutes, hours, days, weeks, months, years");
  return Math.round(total);
}

/** Parses `30s`, `5m`, `2h`/`2hr`, `1d`, `1w` and combinations (`2h30m`); undefined when it does not parse. */
export function parseDurationString(value: string): number | undefined {
  const match = /^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)(?:h|hr))?(?:(\d+)m)?(?:(\d+)s)?$/.exec(value.trim());
  if (!match || value.trim() === "") return undefined;
  const [, w, d, h, m, s] = match.map((x) => (x === undefined ? 0 : Number(x)));
  return (w! * 7 * 86_400 + d! * 86_400 + h! * 3_600 + m! * 60 + s!) * 1000;
}

/** A timeout given as a Date, an ISO string or a duration string, as an instant. */
export function resolveTimeout(timeout: string | Date | undefined, now = Date.now()): Date | undefined {
  if (timeout === undefined) return undefined;
  if (timeout instanceof Date) return timeout;
  const ms = parseDurationString(timeout);
  if (ms !== undefined) return new Date(now + ms);
  const date = new Date(timeout);
  if (Number.isNaN(date.getTime())) throw new TypeError(`Invalid timeout "${timeout}": use a duration like "10m" or an ISO date`);
  return date;
}
