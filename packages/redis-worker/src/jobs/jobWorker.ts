import { randomBytes } from "node:crypto";
import { BackgroundLoop } from "@runplane/core/lifecycle";
import { DEFAULT_BACKOFF, backoffDelay } from "./backoff.js";
import type { JobQueue } from "./jobQueue.js";
import type { ClaimedJob } from "./scripts/claimJobs.js";
import type { BackoffOptions, JobCatalog, JobHandlers, JobWorkerOptions } from "./types.js";

/**
 * Claims due jobs from a `JobQueue` and runs their handlers, on the shared `BackgroundLoop`
 * lifecycle. Success deletes the job; failure retries with backoff, then dead-letters after the
 * attempt limit. A claim stays invisible for the visibility timeout: if this process dies, another
 * worker reclaims the job once it lapses.
 */
export class JobWorker<C extends JobCatalog> {
  private readonly queue: JobQueue<C>;
  private readonly handlers: JobHandlers<C>;
  private readonly concurrency: number;
  private readonly maxAttempts: number;
  private readonly visibilityTimeoutMs: number;
  private readonly backoff: BackoffOptions;
  private readonly loop: BackgroundLoop;
  private readonly tokenPrefix = randomBytes(8).toString("hex");
  private readonly inFlight = new Set<Promise<void>>();
  private readonly controller = new AbortController();
  private readonly visibilityByJob: Record<string, number> = {};
  private readonly maxAttemptsByJob: Record<string, number> = {};

  constructor(private readonly options: JobWorkerOptions<C>) {
    this.queue = options.queue;
    this.handlers = options.handlers;
    this.concurrency = Math.max(1, options.concurrency ?? 10);
    this.maxAttempts = options.maxAttempts ?? 12;
    this.visibilityTimeoutMs = options.visibilityTimeoutMs ?? 30_000;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    for (const [job, definition] of Object.entries(this.queue.catalog)) {
      if (definition.visibilityTimeoutMs !== undefined) this.visibilityByJob[job] = definition.visibilityTimeoutMs;
      if (definition.maxAttempts !== undefined) this.maxAttemptsByJob[job] = definition.maxAttempts;
    }
    this.loop = new BackgroundLoop({
      name: options.name ?? `${this.queue.name}-worker`,
      intervalMs: options.pollIntervalMs ?? 100,
      tick: () => this.tick(),
      onError: (error) => this.options.onError?.(error),
    });
  }

  get isRunning(): boolean {
    return this.loop.isRunning;
  }

  start(): void {
    this.loop.start();
  }

  /** Stops claiming, waits for running handlers until the deadline (then aborts their signal). */
  async stop(deadlineMs = 30_000): Promise<boolean> {
    const started = Date.now();
    const loopStopped = await this.loop.stop(deadlineMs);
    const left = Math.max(0, deadlineMs - (Date.now() - started));
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      Promise.allSettled([...this.inFlight]).then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), left))),
    ]);
    clearTimeout(timer);
    if (!drained) this.controller.abort();
    return loopStopped && drained;
  }

  private async tick(): Promise<boolean> {
    const free = this.concurrency - this.inFlight.size;
    if (free <= 0) return false;
    const claimed = await this.queue.claim(free, {
      tokenPrefix: this.tokenPrefix,
      visibilityTimeoutMs: this.visibilityTimeoutMs,
      maxAttempts: this.maxAttempts,
      visibilityByJob: this.visibilityByJob,
      maxAttemptsByJob: this.maxAttemptsByJob,
    });
    for (const job of claimed) {
      const running = this.run(job).finally(() => this.inFlight.delete(running));
      this.inFlight.add(running);
    }
    return claimed.length === free;
  }

  private async run(claimed: ClaimedJob): Promise<void> {
    const { job, payload } = JSON.parse(claimed.data) as { job: string; payload: unknown };
    const maxAttempts = this.maxAttemptsByJob[job] ?? this.maxAttempts;
    try {
      const definition = this.queue.catalog[job];
      const handler = (this.handlers as Record<string, ((p: unknown, c: unknown) => Promise<void>) | undefined>)[job];
      if (!definition || !handler) {
        await this.queue.fail(claimed.id, claimed.token, `No handler for job "${job}"`, Date.now(), true);
        return;
      }
      const parsed = definition.schema.safeParse(payload);
      if (!parsed.success) {
        await this.queue.fail(claimed.id, claimed.token, `Invalid payload: ${parsed.error.message}`, Date.now(), true);
        return;
      }
      try {
        await handler(parsed.data, { id: claimed.id, job, attempt: claimed.attempt, signal: this.controller.signal });
      } catch (error) {
        this.options.onError?.(error, { id: claimed.id, job });
        const retryAt = Date.now() + backoffDelay(claimed.attempt, this.backoff);
        await this.queue.fail(claimed.id, claimed.token, describe(error), retryAt, claimed.attempt >= maxAttempts);
        return;
      }
      await this.queue.complete(claimed.id, claimed.token);
    } catch (error) {
      // Redis trouble while settling: the claim lapses and the job is retried elsewhere.
      this.options.onError?.(error, { id: claimed.id, job });
    }
  }
}

function describe(error: unknown): string {
  const text = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
  return text.slice(0, 8192);
}
