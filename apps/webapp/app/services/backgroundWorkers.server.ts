import { logger as rootLogger, type Logger } from "~/services/logger.server";
import { singleton } from "~/utils/singleton.server";

/**
 * Every in-process background loop (drainer, stale sweep, engine workers, TTL, heartbeats) is
 * registered here under a unique name and behind a flag. Boot starts them all once; shutdown stops
 * them all with one deadline. A `BackgroundLoop` from @runplane/core fits `BackgroundWorker` as is.
 */
export type BackgroundWorker = {
  readonly name: string;
  start(): void | Promise<void>;
  /** Resolves false (or throws) when the worker did not stop within `deadlineMs`. */
  stop(deadlineMs: number): Promise<boolean | void> | boolean | void;
};

export type RegisterOptions = {
  /** The worker's flag; a disabled worker is listed but never started. Default true. */
  enabled?: boolean;
};

export type WorkerState = "registered" | "disabled" | "running" | "stopped" | "failed";
export type WorkerStatus = { name: string; state: WorkerState };
export type StopReport = { name: string; stopped: boolean; error?: string };

type Entry = { worker: BackgroundWorker; enabled: boolean; state: WorkerState; starting?: Promise<void> };

export class BackgroundWorkerRegistry {
  private readonly entries = new Map<string, Entry>();
  private started = false;
  private stopping: Promise<StopReport[]> | null = null;

  constructor(private readonly logger: Logger = rootLogger.child({ component: "backgroundWorkers" })) {}

  /**
   * Adds a worker. Names are unique: never two loops of one kind per process. A worker registered
   * after `startAll()` starts at once (when enabled).
   */
  register(worker: BackgroundWorker, options: RegisterOptions = {}): void {
    if (this.entries.has(worker.name)) {
      throw new Error(`Background worker "${worker.name}" is already registered`);
    }
    if (this.stopping) throw new Error(`Cannot register "${worker.name}": background workers are stopping`);
    const enabled = options.enabled ?? true;
    const entry: Entry = { worker, enabled, state: enabled ? "registered" : "disabled" };
    this.entries.set(worker.name, entry);
    if (this.started && enabled) void this.startEntry(entry);
  }

  /** Starts every enabled worker once; calling it again (or concurrently) starts nothing new. */
  async startAll(): Promise<void> {
    if (this.stopping) throw new Error("Background workers are stopping");
    this.started = true;
    await Promise.all([...this.entries.values()].map((entry) => this.startEntry(entry)));
  }

  /**
   * Stops every running worker in parallel, each with the same deadline; resolves when all have
   * stopped or given up. Calling it twice returns the first call's result.
   */
  stopAll(deadlineMs = 30_000): Promise<StopReport[]> {
    this.stopping ??= this.stopEntries(deadlineMs);
    return this.stopping;
  }

  list(): WorkerStatus[] {
    return [...this.entries.values()].map((e) => ({ name: e.worker.name, state: e.state }));
  }

  private startEntry(entry: Entry): Promise<void> {
    if (!entry.enabled) return Promise.resolve();
    entry.starting ??= (async () => {
      try {
        await entry.worker.start();
        entry.state = "running";
        this.logger.info("background worker started", { worker: entry.worker.name });
      } catch (error) {
        entry.state = "failed";
        this.logger.error("background worker failed to start", { worker: entry.worker.name, error });
      }
    })();
    return entry.starting;
  }

  private async stopEntries(deadlineMs: number): Promise<StopReport[]> {
    const running = [...this.entries.values()].filter((e) => e.starting);
    return Promise.all(
      running.map(async (entry): Promise<StopReport> => {
        const name = entry.worker.name;
        await entry.starting;
        if (entry.state !== "running") return { name, stopped: true };
        let timer: NodeJS.Timeout | undefined;
        try {
          const result = await Promise.race([
            Promise.resolve(entry.worker.stop(deadlineMs)).then((r) => r !== false),
            new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), deadlineMs + 1_000))),
          ]);
          entry.state = "stopped";
          if (!result) this.logger.warn("background worker missed its stop deadline", { worker: name, deadlineMs });
          return { name, stopped: result };
        } catch (error) {
          entry.state = "failed";
          this.logger.error("background worker failed to stop", { worker: name, error });
          return { name, stopped: false, error: (error as Error).message };
        } finally {
          clearTimeout(timer);
        }
      })
    );
  }
}

/** The process registry. Register from `registerBackgroundWorkers` (backgroundWorkers.wiring.server.ts). */
export const backgroundWorkers: BackgroundWorkerRegistry = singleton(
  "backgroundWorkers",
  () => new BackgroundWorkerRegistry()
);
