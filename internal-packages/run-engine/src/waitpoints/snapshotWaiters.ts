import type { EngineEventBus } from "../eventBus/index.js";

/**
 * Wakes long-polls (continue, dequeue) when a run gets a new snapshot in this process. Other processes'
 * writes are caught by the caller's bounded re-check interval.
 */
export class SnapshotWaiters {
  private readonly waiting = new Map<string, Set<() => void>>();

  constructor(bus: EngineEventBus) {
    bus.on("executionSnapshotCreated", ({ run }) => {
      const set = this.waiting.get(run.id);
      if (!set) return;
      this.waiting.delete(run.id);
      for (const wake of set) wake();
    });
  }

  /** Resolves on the run's next snapshot here, after `timeoutMs`, or when `signal` aborts. */
  wait(runId: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      let set = this.waiting.get(runId);
      if (!set) {
        set = new Set();
        this.waiting.set(runId, set);
      }
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        set!.delete(done);
        if (set!.size === 0 && this.waiting.get(runId) === set) this.waiting.delete(runId);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal?.addEventListener("abort", done, { once: true });
      set.add(done);
    });
  }
}
