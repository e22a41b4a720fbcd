type Waiter = {
  kind: "acquire" | "peek";
  priority: boolean;
  resolve: () => void;
  reject: (error: unknown) => void;
  cleanup: () => void;
};

/**
 * Counts the runs a worker executes at once. Runs that are waiting (a child run, a token, a duration)
 * give their slot back and take one again — ahead of new work — when they resume, so a parent waiting
 * on a child can never starve the child of a slot on the same worker.
 */
export class ConcurrencyGate {
  private activeCount = 0;
  private waiters: Waiter[] = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError("concurrency must be a positive integer");
  }

  get active(): number {
    return this.activeCount;
  }

  /** Free slots not already promised to a resuming run. */
  get available(): number {
    const promised = this.waiters.filter((w) => w.kind === "acquire" && w.priority).length;
    return Math.max(0, this.limit - this.activeCount - promised);
  }

  tryAcquire(): boolean {
    if (this.available <= 0) return false;
    this.activeCount++;
    return true;
  }

  /** Takes a slot even past the limit (runs the server already handed over). */
  forceAcquire(): void {
    this.activeCount++;
  }

  release(): void {
    if (this.activeCount <= 0) throw new Error("ConcurrencyGate.release() without a matching acquire");
    this.activeCount--;
    this.drain();
  }

  /** Waits for a slot and takes it. Priority acquirers go before everyone else. */
  acquire(options: { priority?: boolean; signal?: AbortSignal } = {}): Promise<void> {
    const priority = options.priority ?? false;
    if (this.activeCount < this.limit && (priority || this.available > 0)) {
      this.activeCount++;
      return Promise.resolve();
    }
    return this.enqueue("acquire", priority, options.signal);
  }

  /** Resolves once at least one slot is free (without taking it): the dequeue loop's wait. */
  waitForAvailable(signal?: AbortSignal): Promise<void> {
    if (this.available > 0) return Promise.resolve();
    return this.enqueue("peek", false, signal);
  }

  private enqueue(kind: Waiter["kind"], priority: boolean, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason ?? new Error("aborted"));
      const onAbort = () => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(signal!.reason ?? new Error("aborted"));
        this.drain();
      };
      const waiter: Waiter = {
        kind,
        priority,
        resolve,
        reject,
        cleanup: () => signal?.removeEventListener("abort", onAbort),
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      if (priority) {
        const firstNormal = this.waiters.findIndex((w) => !w.priority);
        if (firstNormal === -1) this.waiters.push(waiter);
        else this.waiters.splice(firstNormal, 0, waiter);
      } else {
        this.waiters.push(waiter);
      }
    });
  }

  private drain(): void {
    while (this.waiters.length > 0 && this.activeCount < this.limit) {
      const waiter = this.waiters[0]!;
      if (waiter.kind === "peek" && this.available <= 0) break;
      this.waiters.shift();
      waiter.cleanup();
      if (waiter.kind === "acquire") this.activeCount++;
      waiter.resolve();
    }
  }
}
