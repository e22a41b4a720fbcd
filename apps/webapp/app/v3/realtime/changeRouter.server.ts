import type { Redis } from "ioredis";
import type { Logger } from "~/services/logger.server";
import { ChangeMessage } from "./changeLog.server";

/** A change announcement, or `resync` when messages may have been missed (reconnect, shutdown). */
export type ChangeSignal = { type: "change"; message: ChangeMessage } | { type: "resync" };
export type ChangeListener = (signal: ChangeSignal) => void;

export type ChangeRouterOptions = {
  /** A dedicated connection: it is put in subscriber mode. */
  subscriber: Redis;
  channel: (environmentId: string) => string;
  logger: Logger;
  /** How long a channel stays subscribed after its last listener left (long-polls come back at once). Default 5 s. */
  lingerMs?: number;
};

type ChannelState = {
  listeners: Set<ChangeListener>;
  subscribed: Promise<void> | null;
  lingerTimer: NodeJS.Timeout | null;
};

/**
 * One Redis subscriber per process, shared by every held long-poll: a channel per environment is
 * subscribed while someone listens to it (and a little longer), and each message is handed to that
 * environment's listeners. Redis pub/sub may drop messages on a reconnect, so listeners also get
 * a `resync` then (they re-read the change log, which is durable).
 */
export class RealtimeChangeRouter {
  private readonly channels = new Map<string, ChannelState>();
  private readonly lingerMs: number;
  private readyOnce = false;
  private closed = false;

  constructor(private readonly options: ChangeRouterOptions) {
    this.lingerMs = options.lingerMs ?? 5_000;
    options.subscriber.on("message", (channel: string, raw: string) => this.dispatch(channel, raw));
    options.subscriber.on("ready", () => {
      if (this.readyOnce) this.broadcast({ type: "resync" });
      this.readyOnce = true;
    });
    options.subscriber.on("error", (error: Error) => options.logger.warn("realtime subscriber error", { error: error.message }));
  }

  /** Listens to an environment's changes; resolves once the channel is subscribed. Returns the unsubscribe. */
  async listen(environmentId: string, listener: ChangeListener): Promise<() => void> {
    if (this.closed) throw new Error("The realtime change router is closed");
    const channel = this.options.channel(environmentId);
    let state = this.channels.get(channel);
    if (!state) {
      state = { listeners: new Set(), subscribed: null, lingerTimer: null };
      this.channels.set(channel, state);
    }
    if (state.lingerTimer) {
      clearTimeout(state.lingerTimer);
      state.lingerTimer = null;
    }
    state.listeners.add(listener);
    const current = state;
    if (!current.subscribed) {
      current.subscribed = this.options.subscriber.subscribe(channel).then(
        () => undefined,
        (error: unknown) => {
          current.subscribed = null;
          throw error;
        }
      );
    }
    try {
      await current.subscribed;
    } catch (error) {
      current.listeners.delete(listener);
      throw error;
    }
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      current.listeners.delete(listener);
      if (current.listeners.size === 0 && !current.lingerTimer && this.channels.get(channel) === current) {
        current.lingerTimer = setTimeout(() => this.release(channel, current), this.lingerMs);
        current.lingerTimer.unref?.();
      }
    };
  }

  /** Channels currently subscribed (tests, metrics). */
  subscribedChannels(): string[] {
    return [...this.channels.entries()].filter(([, s]) => s.subscribed).map(([c]) => c);
  }

  /** Wakes every listener with `resync` (they answer their clients), then closes the connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.broadcast({ type: "resync" });
    for (const state of this.channels.values()) if (state.lingerTimer) clearTimeout(state.lingerTimer);
    this.channels.clear();
    const sub = this.options.subscriber;
    if (sub.status === "ready") await sub.quit().catch(() => sub.disconnect());
    else sub.disconnect();
  }

  isClosed(): boolean {
    return this.closed;
  }

  private release(channel: string, state: ChannelState): void {
    state.lingerTimer = null;
    if (state.listeners.size > 0 || this.channels.get(channel) !== state) return;
    this.channels.delete(channel);
    if (state.subscribed && !this.closed) {
      this.options.subscriber.unsubscribe(channel).catch((error: unknown) =>
        this.options.logger.warn("realtime unsubscribe failed", { channel, error })
      );
    }
  }

  private dispatch(channel: string, raw: string): void {
    const state = this.channels.get(channel);
    if (!state || state.listeners.size === 0) return;
    let parsed: ChangeMessage;
    try {
      const result = ChangeMessage.safeParse(JSON.parse(raw));
      if (!result.success) throw result.error;
      parsed = result.data;
    } catch (error) {
      this.options.logger.warn("realtime: ignoring a malformed change message", { channel, error });
      return;
    }
    for (const listener of [...state.listeners]) this.call(listener, { type: "change", message: parsed });
  }

  private call(listener: ChangeListener, signal: ChangeSignal): void {
    try {
      listener(signal);
    } catch (error) {
      this.options.logger.warn("realtime: change listener failed", { error });
    }
  }

  private broadcast(signal: ChangeSignal): void {
    for (const state of this.channels.values()) for (const listener of [...state.listeners]) this.call(listener, signal);
  }
}
