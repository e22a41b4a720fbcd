import type { RunStore } from "@internal/run-store";
import { RUN_ID_ATTRIBUTE_KEYS } from "@runplane/core/traces";
import type { Attributes } from "./otlpDecode.server";
import type { RunLocation } from "./types";

/** What the events store needs to know about a run a record names. */
export type AttributedRun = { friendlyId: string; traceId: string; spanId: string; residency: RunLocation["residency"] };

/** The run id a record names: its own attributes first, then its resource's. */
export function runIdOf(attributes: Attributes, resource: Attributes): string | null {
  for (const source of [attributes, resource]) {
    for (const key of RUN_ID_ATTRIBUTE_KEYS) {
      const value = source[key];
      if (typeof value === "string" && value.length > 0 && value.length <= 128) return value;
    }
  }
  return null;
}

type CacheEntry = { run: AttributedRun | null; expiresAt: number };

/**
 * Resolves run ids named by OTLP records to runs of the caller's environment, with a short cache
 * (hits and misses) so a flood of records for one run costs one lookup. A run of another environment
 * resolves to null, like an unknown one.
 */
export class RunAttribution {
  private readonly cache = new Map<string, CacheEntry>();

  constructor(
    private readonly runStore: RunStore,
    private readonly options: { ttlMs: number; maxEntries: number } = { ttlMs: 30_000, maxEntries: 10_000 }
  ) {}

  async resolve(environmentId: string, runIds: Iterable<string>): Promise<Map<string, AttributedRun | null>> {
    const now = Date.now();
    const out = new Map<string, AttributedRun | null>();
    const misses: string[] = [];
    for (const runId of runIds) {
      const hit = this.cache.get(`${environmentId}:${runId}`);
      if (hit && hit.expiresAt > now) out.set(runId, hit.run);
      else misses.push(runId);
    }
    await Promise.all(
      misses.map(async (runId) => {
        const run = await this.lookup(environmentId, runId);
        out.set(runId, run);
        if (this.cache.size >= this.options.maxEntries) this.cache.delete(this.cache.keys().next().value!);
        this.cache.set(`${environmentId}:${runId}`, { run, expiresAt: now + (run ? this.options.ttlMs : Math.min(this.options.ttlMs, 2_000)) });
      })
    );
    return out;
  }

  private async lookup(environmentId: string, runId: string): Promise<AttributedRun | null> {
    if (!runId.startsWith("run_")) return null;
    try {
      const run = await this.runStore.findRun({ friendlyId: runId, environmentId }, { id: true, friendlyId: true, traceId: true, spanId: true });
      if (!run) return null;
      return { friendlyId: run.friendlyId, traceId: run.traceId, spanId: run.spanId, residency: this.runStore.residencyOf(run.id) };
    } catch {
      // an id of a shape this store cannot route (or a database that refuses it) names no run here
      return null;
    }
  }
}
