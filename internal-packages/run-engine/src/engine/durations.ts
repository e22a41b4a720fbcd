import { ValidationError } from "@runplane/core";

const UNIT_MS: Record<string, number> = { w: 604_800_000, d: 86_400_000, h: 3_600_000, hr: 3_600_000, m: 60_000, s: 1000, ms: 1 };

/** "10m", "2h30m", "1w2d", "45s", "250ms" → milliseconds. Null when the text is not a duration. */
export function parseDurationMs(text: string): number | null {
  const trimmed = text.trim();
  if (!trimmed) return null;
  const re = /(\d+(?:\.\d+)?)(ms|hr|w|d|h|m|s)/gy;
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(trimmed))) {
    total += Number(m[1]) * UNIT_MS[m[2]];
    matched += m[0].length;
  }
  return matched === trimmed.length ? total : null;
}

/** A ttl given as a duration string or seconds. 0 / "0s" means no ttl. */
export function ttlToMs(ttl: string | number | undefined | null): number | null {
  if (ttl === undefined || ttl === null) return null;
  if (typeof ttl === "number") {
    if (!Number.isFinite(ttl) || ttl < 0) throw new ValidationError(`Invalid ttl: ${ttl}`);
    return ttl === 0 ? null : ttl * 1000;
  }
  const ms = parseDurationMs(ttl);
  if (ms === null) throw new ValidationError(`Invalid ttl: ${ttl}`);
  return ms === 0 ? null : ms;
}

export function ttlToString(ttl: string | number | undefined | null): string | null {
  if (ttl === undefined || ttl === null) return null;
  return typeof ttl === "number" ? `${ttl}s` : ttl;
}
