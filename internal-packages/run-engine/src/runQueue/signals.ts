import type { Redis } from "ioredis";

/**
 * Wake-ups for long-polling consumers: every change that may let a dequeue succeed publishes on the
 * env's channel and on the all-envs channel; waiters subscribe on one shared subscriber connection.
 */
export class QueueSignals {
  private subscriber: Redis | undefined;
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(
    private readonly publisher: Redis,
    private readonly createSubscriber: () => Redis,
    private readonly channelFor: (environmentId: string | undefined) => string,
  ) {}

  notify(environmentId: string): Promise<unknown> {
    return Promise.all([
      this.publisher.publish(this.channelFor(environmentId), "1"),
      this.publisher.publish(this.channelFor(undefined), "1"),
    ]);
  }

  /**
   * Resolves true on a signal, on `wakeAt` (epoch ms) or when `ready()` says so right after subscribing
   * (closing the gap between an empty dequeue and the subscription); false on timeout or abort.
   */
  async wait(
    environmentId: string | undefined,
    timeoutMs: number,
    ready: () => Promise<{ now: boolean; wakeAt?: number }>,
    signal?: AbortSignal,
  ): Promise<boolean> {
    if (signal?.aborted) return false;
    const channel = this.channelFor(environmentId);
    let settle!: (value: boolean) => void;
    const outcome = new Promise<boolean>((resolve) => (settle = resolve));
    const onSignal = () => settle(true);
    const onAbort = () => settle(false);
    const timers: NodeJS.Timeout[] = [setTimeout(() => settle(false), timeoutMs)];
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      await this.add(channel, onSignal);
      const state = await ready();
      if (state.now) settle(true);
      else if (state.wakeAt !== undefined) {
        const delay = state.wakeAt - Date.now();
        if (delay < timeoutMs) timers.push(setTimeout(() => settle(true), Math.max(0, delay)));
      }
      return await outcome;
    } finally {
      timers.forEach(clearTimeout);
      signal?.removeEventListener("abort", onAbort);
      await this.remove(channel, onSignal);
    }
  }

  async close(): Promise<void> {
    for (const set of this.waiters.values()) for (const waiter of set) waiter();
    this.waiters.clear();
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    if (subscriber) await subscriber.quit().catch(() => subscriber.disconnect());
  }

  private connection(): Redis {
    if (!this.subscriber) {
      const subscriber = this.createSubscriber();
      subscriber.on("message", (channel: string) => {
        for (const waiter of this.waiters.get(channel) ?? []) waiter();
      });
      this.subscriber = subscriber;
    }
    return this.subscriber;
  }

  private async add(channel: string, waiter: () => void): Promise<void> {
    let set = this.waiters.get(channel);
    if (!set) {
      set = new Set();
      this.waiters.set(channel, set);
    }
    set.add(waiter);
    if (set.size === 1) await this.connection().subscribe(channel);
  }

  private async remove(channel: string, waiter: () => void): Promise<void> {
    const set = this.waiters.get(channel);
    if (!set) return;
    set.delete(waiter);
    if (set.size === 0) {
      this.waiters.delete(channel);
      await this.subscriber?.unsubscribe(channel).catch(() => undefined);
    }
  }
}
