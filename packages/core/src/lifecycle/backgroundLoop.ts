/**
 * The one lifecycle every background loop shares (drainer, stale sweep, job workers, TTL, heartbeats):
 * start once behind a flag, tick until stopped, stop with a deadline that waits for the in-flight tick.
 */
export type BackgroundLoopOptions = {
  name: string;
  /** Pause between ticks. A tick that reports more work (returns true) is followed at once. */
  intervalMs: number;
  tick: (signal: AbortSignal) => Promise<boolean | void>;
  onError?: (error: unknown) => void;
};

export class BackgroundLoop {
  private running = false;
  private controller = new AbortController();
  private current: Promise<void> | null = null;
  private wake: (() => void) | null = null;

  constructor(private readonly options: BackgroundLoopOptions) {}

  get name(): string {
    return this.options.name;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Starting twice is a no-op: never two loops of one kind per object. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.controller = new AbortController();
    this.current = this.run();
  }

  /** Stops after the in-flight tick; resolves false when the deadline passed first. */
  async stop(deadlineMs = 30_000): Promise<boolean> {
    if (!this.running) return true;
    this.running = false;
    this.controller.abort();
    this.wake?.();
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      this.current!.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), deadlineMs))),
    ]);
    clearTimeout(timer);
    return finished;
  }

  private async run(): Promise<void> {
    while (this.running) {
      let more = false;
      try {
        more = (await this.options.tick(this.controller.signal)) === true;
      } catch (error) {
        this.options.onError?.(error);
      }
      if (!this.running) break;
      if (!more) await this.sleep(this.options.intervalMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}
