import type { BackoffOptions } from "./types.js";

export const DEFAULT_BACKOFF: BackoffOptions = { minMs: 1000, maxMs: 60_000, factor: 2, jitter: true };

/** Delay after failed attempt n (1-based): min(maxMs, minMs × factor^(n−1)), ×[1,2) with jitter, ≤ maxMs. */
export function backoffDelay(attempt: number, { minMs, maxMs, factor, jitter = true }: BackoffOptions): number {
  const base = Math.min(maxMs, minMs * factor ** Math.max(0, attempt - 1));
  return Math.round(Math.min(maxMs, jitter ? base * (1 + Math.random()) : base));
}
