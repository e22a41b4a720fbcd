/**
 * A counting semaphore for handler slots: a slot is taken before a pop and given back when the
 * entry's processing ends, so popped-but-unfinished entries never exceed the size. Tracks the
 * running tasks so shutdown can wait for them.
 */
export class Slots {
  private active = 0;
  private waiters = new Set<() => void>();
  private readonly tasks = new Set<Promise<unknown>>();

  constructor(private readonly size: number) {}

  get inUse(): number {
    return this.active;
  }

  /** Resolves true with a slot taken, or false once `signal` aborts. */
  async acquire(signal: AbortSignal): Promise<boolean> {
    while (this.active >= this.size) {
      if (signal.aborted) return false;
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.waiters.delete(wake);
          signal.removeEventListener("abort", wake);
          resolve();
        };
        this.waiters.add(wake);
        signal.addEventListener("abort", wake, { once: true });
      });
    }
    if (signal.aborted) return false;
    this.active += 1;
    return true;
  }

  /** Runs `work` in the taken slot, giving the slot back when it settles. */
  run<T>(work: Promise<T>): Promise<T> {
    const task = work.finally(() => {
      this.tasks.delete(task);
      this.release();
    });
    this.tasks.add(task);
    return task;
  }

  release(): void {
    this.active -= 1;
    for (const wake of [...this.waiters]) wake();
  }

  /** Resolves true when every running task settled, false if `deadlineMs` passed first. */
  async drain(deadlineMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const settled = Promise.allSettled([...this.tasks]).then(() => true);
    const result = await Promise.race([settled, new Promise<boolean>((r) => (timer = setTimeout(() => r(false), Math.max(0, deadlineMs))))]);
    clearTimeout(timer);
    return result;
  }
}
