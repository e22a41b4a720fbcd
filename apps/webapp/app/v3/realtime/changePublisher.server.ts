import type { EngineEventBus } from "@internal/run-engine";
import type { RunStore } from "@internal/run-store";
import type { Logger } from "~/services/logger.server";
import type { RealtimeChangeLog } from "./changeLog.server";

export type ChangePublisherOptions = {
  changeLog: RealtimeChangeLog;
  /** Finds the environment of a run when an event does not say (execution snapshots). */
  runStore: Pick<RunStore, "findRun">;
  logger: Logger;
  /** Run → environment memo size. Default 10 000. */
  memoSize?: number;
};

/**
 * Engine events → the realtime change log. Every event that may change a run row marks the run as
 * changed; marks collected in one turn of the event loop are written as one position per
 * environment (so a completion's snapshot, status and success events cost one Redis call).
 * Writes outside the engine (e.g. a route updating tags) call `runChanged` themselves.
 */
export class RealtimeChangePublisher {
  private readonly pending = new Map<string, Set<string>>(); // environmentId → run ids
  private readonly unknownEnv = new Set<string>(); // run ids whose environment is not known yet
  private readonly envOfRun = new Map<string, string>();
  private readonly memoSize: number;
  private flushScheduled = false;
  private inFlight = new Set<Promise<void>>();

  constructor(private readonly options: ChangePublisherOptions) {
    this.memoSize = options.memoSize ?? 10_000;
  }

  /** Subscribes to the engine's events; returns the unsubscribe function. */
  attach(bus: EngineEventBus): () => void {
    const offs = [
      bus.on("runCreated", (e) => this.runChanged(e.environment.id, e.run.id)),
      bus.on("runStatusChanged", (e) => this.runChanged(e.environment.id, e.run.id)),
      bus.on("runAttemptStarted", (e) => this.runChanged(e.environment.id, e.run.id)),
      bus.on("runAttemptFailed", (e) => this.runChanged(e.environment.id, e.run.id)),
      bus.on("runSucceeded", (e) => this.runChanged(e.environment.id, e.run.id)),
      bus.on("runFailed", (e) => this.runChanged(e.environment.id, e.run.id)),
      bus.on("runCancelled", (e) => this.runChanged(e.environment.id, e.run.id)),
      bus.on("runExpired", (e) => this.runChanged(e.environment.id, e.run.id)),
      bus.on("runMetadataUpdated", (e) => this.runChanged(e.environment.id, e.run.id)),
      bus.on("runTagsUpdated", (e) => this.runChanged(e.environment.id, e.run.id)),
      // Any other row change (reschedule, waits, retries) comes with a new execution snapshot.
      bus.on("executionSnapshotCreated", (e) => this.runChanged(undefined, e.run.id)),
    ];
    return () => offs.forEach((off) => off());
  }

  /** Marks a run (internal id) as changed; written to the log on the next turn of the event loop. */
  runChanged(environmentId: string | undefined, runId: string): void {
    const env = environmentId ?? this.envOfRun.get(runId);
    if (env) {
      this.remember(runId, env);
      let set = this.pending.get(env);
      if (!set) this.pending.set(env, (set = new Set()));
      set.add(runId);
      this.unknownEnv.delete(runId);
    } else {
      this.unknownEnv.add(runId);
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.track(this.flush()));
    }
  }

  /** Resolves once every change marked so far is written (tests, shutdown). */
  async drain(): Promise<void> {
    while (this.flushScheduled || this.inFlight.size > 0) {
      if (this.flushScheduled) await new Promise((resolve) => setImmediate(resolve));
      await Promise.allSettled([...this.inFlight]);
    }
  }

  private track(promise: Promise<void>): void {
    this.inFlight.add(promise);
    void promise.finally(() => this.inFlight.delete(promise));
  }

  private remember(runId: string, environmentId: string): void {
    if (this.envOfRun.has(runId)) this.envOfRun.delete(runId);
    this.envOfRun.set(runId, environmentId);
    if (this.envOfRun.size > this.memoSize) {
      const oldest = this.envOfRun.keys().next().value;
      if (oldest !== undefined) this.envOfRun.delete(oldest);
    }
  }

  private async flush(): Promise<void> {
    this.flushScheduled = false;
    const unknown = [...this.unknownEnv];
    this.unknownEnv.clear();
    const batches = new Map(this.pending);
    this.pending.clear();

    if (unknown.length > 0) {
      const found = await Promise.all(
        unknown.map(async (runId) => {
          try {
            const run = await this.options.runStore.findRun({ id: runId }, { runtimeEnvironmentId: true });
            return run ? ([runId, run.runtimeEnvironmentId] as const) : null;
          } catch (error) {
            this.options.logger.warn("realtime: could not find a changed run's environment", { runId, error });
            return null;
          }
        })
      );
      for (const entry of found) {
        if (!entry) continue;
        const [runId, env] = entry;
        this.remember(runId, env);
        let set = batches.get(env);
        if (!set) batches.set(env, (set = new Set()));
        set.add(runId);
      }
    }

    await Promise.all(
      [...batches].map(async ([env, runIds]) => {
        try {
          await this.options.changeLog.recordChanges(env, [...runIds]);
        } catch (error) {
          // Live subscribers still catch up through their periodic refresh.
          this.options.logger.warn("realtime: could not record run changes", { environmentId: env, runs: runIds.size, error });
        }
      })
    );
  }
}
