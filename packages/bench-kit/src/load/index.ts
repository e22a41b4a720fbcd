export { runClosedLoop } from "./closed.js";
export { runOpenLoop } from "./open.js";
export { runClosedLoopOps, type OpsLoopOptions, type OpsLoopResult } from "./ops.js";
export type * from "./types.js";

/**
 * A JSON-able object whose serialised form is exactly `bytes` long (when `fields` alone are
 * shorter), padded with a `pad` string: `jsonOfSize(1024, { payload: { i } })`.
 */
export function jsonOfSize(bytes: number, fields: Record<string, unknown> = {}): Record<string, unknown> {
  const base = JSON.stringify({ ...fields, pad: "" }).length;
  const padLen = Math.max(0, bytes - base);
  return { ...fields, pad: "x".repeat(padLen) };
}

/** Open-loop rates as fractions of a measured maximum (B1: 25/50/75/90 %), rounded to whole req/s. */
export function ratesFromMax(maxPerSec: number, fractions: number[] = [0.25, 0.5, 0.75, 0.9]): number[] {
  return fractions.map((f) => Math.max(1, Math.round(maxPerSec * f)));
}

/**
 * anchors.md rule 3: `warmupRuns` unrecorded runs, then `k` measured runs, one after another
 * (with `pauseMs` between them to let the system settle). Returns the measured results.
 */
export async function repeatRuns<T>(
  k: number,
  run: (i: number) => Promise<T>,
  opts: { warmupRuns?: number; pauseMs?: number; onRun?: (result: T, i: number) => void } = {},
): Promise<T[]> {
  const warm = opts.warmupRuns ?? 1;
  const pause = opts.pauseMs ?? 0;
  const out: T[] = [];
  for (let i = -warm; i < k; i++) {
    const r = await run(i);
    if (i >= 0) {
      out.push(r);
      opts.onRun?.(r, i);
    }
    if (pause > 0 && i < k - 1) await new Promise((res) => setTimeout(res, pause));
  }
  return out;
}
