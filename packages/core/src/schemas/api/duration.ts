/**
 * Duration strings as the SDK's callers write them: `30s`, `5m`, `2h` / `2hr`, `1d`, `1w`, and
 * combinations such as `2h30m` or `1w2d`. Each unit at most once, largest first.
 */

const UNIT_MS = { w: 604_800_000, d: 86_400_000, h: 3_600_000, hr: 3_600_000, m: 60_000, s: 1_000 } as const;
const DURATION = /^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)(?:hr|h))?(?:(\d+)m)?(?:(\d+)s)?$/;

/** Milliseconds for a duration string, or `undefined` when it is not one (empty, `1x`, `-5m`, …). */
export function parseDurationMs(value: string): number | undefined {
  const trimmed = value.trim();
  if (trimmed.length === 0) return undefined;
  const match = DURATION.exec(trimmed);
  if (!match) return undefined;
  const [, w, d, h, m, s] = match;
  return (
    Number(w ?? 0) * UNIT_MS.w +
    Number(d ?? 0) * UNIT_MS.d +
    Number(h ?? 0) * UNIT_MS.h +
    Number(m ?? 0) * UNIT_MS.m +
    Number(s ?? 0) * UNIT_MS.s
  );
}

/**
 * When a `delay` (or token `timeout`) falls due: a duration from `now`, or an absolute date.
 * `undefined` when the value is not understood; callers decide whether that is an error.
 */
export function resolveDelay(value: string | Date, now: Date = new Date()): Date | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value;
  const ms = parseDurationMs(value);
  if (ms !== undefined) return new Date(now.getTime() + ms);
  // Only full ISO-like dates, not whatever Date.parse happens to accept ("5", "May").
  if (!/^\d{4}-\d{2}-\d{2}/.test(value.trim())) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** `ttl` as whole seconds: a duration string or a non-negative integer of seconds. */
export function resolveTtlSeconds(value: string | number): number | undefined {
  if (typeof value === "number") return Number.isInteger(value) && value >= 0 ? value : undefined;
  const ms = parseDurationMs(value);
  return ms === undefined ? undefined : Math.floor(ms / 1000);
}

/** `idempotencyKeyTTL` grammar: one number and one unit among s, m, h, d. */
export function parseIdempotencyKeyTtlMs(value: string): number | undefined {
  const match = /^(\d+)([smhd])$/.exec(value.trim());
  if (!match) return undefined;
  return Number(match[1]) * UNIT_MS[match[2] as "s" | "m" | "h" | "d"];
}
