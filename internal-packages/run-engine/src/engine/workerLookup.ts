import type { ResolvedWorkerVersion } from "@internal/database/resolver";
import type { EngineCore } from "./core.js";

/** Worker-version lookups for triggers and dequeues (the newest worker memoised for 2 s). */
export class WorkerLookup {
  constructor(private readonly core: EngineCore) {}

  // Triggers without an explicit queue, and dequeues, look up the current worker. The resolver does not
  // cache "newest worker"; a 2 s engine-side memo keeps that off the hot path (other processes see a
  // newly registered worker within 2 s).
  readonly #workerMemo = new Map<string, { at: number; value: Promise<ResolvedWorkerVersion | null> }>();

  latestWorker(environmentId: string, version?: string): Promise<ResolvedWorkerVersion | null> {
    const key = `${environmentId}:${version ?? ""}`;
    const hit = this.#workerMemo.get(key);
    if (hit && Date.now() - hit.at < 2000) return hit.value;
    const value = this.core.resolver.resolveWorkerVersion(environmentId, version ? { version } : {});
    if (this.#workerMemo.size > 10_000) this.#workerMemo.clear();
    this.#workerMemo.set(key, { at: Date.now(), value });
    value.catch(() => this.#workerMemo.delete(key));
    return value;
  }

  /** Forget memoised worker lookups of an environment (call after registering a worker). */
  invalidateWorkers(environmentId: string): void {
    for (const key of this.#workerMemo.keys()) if (key.startsWith(`${environmentId}:`)) this.#workerMemo.delete(key);
  }

  resolveVersion(
    environmentId: string,
    options: { version?: string; workerId?: string },
    cache: Map<string, Promise<ResolvedWorkerVersion | null>>
  ): Promise<ResolvedWorkerVersion | null> {
    const key = options.workerId ? `id:${options.workerId}` : `v:${options.version ?? ""}`;
    let found = cache.get(key);
    if (!found) {
      // The newest worker is memoised for 2 s (registerWorker clears it in-process); pinned ones are
      // cached by the resolver itself.
      found = options.workerId ? this.core.resolver.resolveWorkerVersion(environmentId, options) : this.latestWorker(environmentId, options.version);
      cache.set(key, found);
    }
    return found;
  }
}
