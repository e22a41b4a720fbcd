/** A countdown that can be paused (maxDuration counts compute time, not time spent in waits). */
export class ComputeBudget {
  private remainingMs: number;
  private startedAt: number | null = null;
  private timer: NodeJS.Timeout | null = null;
  private usedBeforeMs = 0;
  private done = false;

  constructor(
    private readonly limitMs: number | undefined,
    private readonly onExceeded: () => void,
  ) {
    this.remainingMs = limitMs ?? Number.POSITIVE_INFINITY;
  }

  /** Milliseconds of compute used so far. */
  get usedMs(): number {
    return this.usedBeforeMs + (this.startedAt === null ? 0 : performance.now() - this.startedAt);
  }

  resume(): void {
    if (this.done || this.startedAt !== null) return;
    this.startedAt = performance.now();
    if (this.limitMs === undefined) return;
    this.timer = setTimeout(() => {
      this.done = true;
      this.onExceeded();
    }, Math.max(0, this.remainingMs));
  }

  pause(): void {
    if (this.startedAt === null) return;
    const elapsed = performance.now() - this.startedAt;
    this.usedBeforeMs += elapsed;
    this.remainingMs -= elapsed;
    this.startedAt = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  stop(): void {
    this.pause();
    this.done = true;
  }
}
