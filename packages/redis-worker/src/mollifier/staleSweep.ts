import { randomUUID } from "node:crypto";
import type { MollifierBuffer } from "./buffer.js";
import { mollifierMetrics, type MollifierMetrics } from "./telemetry.js";

export type StaleSweepTickInput = {
  /** Wall-clock ms; entries created before `now - thresholdMs` are stale. */
  now: number;
  thresholdMs: number;
  /** A full pass over the orgs takes this many ticks. */
  shardCount: number;
};

export type StaleSweepTickResult =
  | { skipped: true; reason: "lease_held_elsewhere" }
  | {
      skipped: false;
      shard: number;
      wrapped: boolean;
      orgsScanned: number;
      envsScanned: number;
      /** Stale entries per env (durable; covers the whole cycle, not just this shard). */
      counts: Record<string, number>;
      staleTotal: number;
    };

export type MollifierStaleSweepOptions = {
  buffer: MollifierBuffer;
  /** How long the lease outlives a tick; make it longer than the tick interval so the holder keeps it. */
  leaseMs?: number;
  /** Identifies this instance as lease holder. Default a random UUID. */
  token?: string;
  metrics?: MollifierMetrics;
};

/**
 * The Redis side of the stale sweep: a lease so only one instance sweeps at a time (read-only on the
 * buffer; counts are absolute values, so even overlapping sweeps never add up), one shard per tick,
 * and a stale-entries gauge reported only by the lease holder. The webapp owns the periodic loop.
 */
export class MollifierStaleSweep {
  readonly token: string;
  private readonly buffer: MollifierBuffer;
  private readonly leaseMs: number;
  private lastTotal: number | undefined;

  constructor(options: MollifierStaleSweepOptions) {
    this.buffer = options.buffer;
    this.leaseMs = options.leaseMs ?? 15 * 60_000;
    this.token = options.token ?? randomUUID();
    (options.metrics ?? mollifierMetrics()).observe("staleEntries", () => this.lastTotal);
  }

  async runStaleSweepTick(input: StaleSweepTickInput): Promise<StaleSweepTickResult> {
    if (!(await this.buffer.acquireSweepLease(this.token, this.leaseMs))) {
      this.lastTotal = undefined;
      return { skipped: true, reason: "lease_held_elsewhere" };
    }
    const step = await this.buffer.sweepShard({ cutoffMs: input.now - input.thresholdMs, shardCount: input.shardCount });
    const counts = await this.buffer.readStaleCounts();
    const staleTotal = Object.values(counts).reduce((sum, n) => sum + n, 0);
    this.lastTotal = staleTotal;
    return { skipped: false, ...step, counts, staleTotal };
  }

  /** Give the lease up (shutdown) so another instance takes over without waiting for expiry. */
  async release(): Promise<void> {
    this.lastTotal = undefined;
    await this.buffer.releaseSweepLease(this.token);
  }
}
