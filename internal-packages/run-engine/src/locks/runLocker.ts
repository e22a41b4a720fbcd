import { AsyncLocalStorage } from "node:async_hooks";
import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { createRedisClient } from "@runplane/redis-worker/redis";
import { LockAcquisitionTimeoutError } from "./errors.js";
import { acquireLockScript } from "./scripts/acquireLock.js";
import { extendLockScript } from "./scripts/extendLock.js";
import { releaseLockScript } from "./scripts/releaseLock.js";
import type { LockContext, LockOptions, RunLockerApi, RunLockerOptions } from "./types.js";

/** One acquisition; `active` turns false on release, so work that outlives it stops counting as a holder. */
type Frame = { active: boolean; signal: AbortSignal };
type Held = ReadonlyMap<string, Frame>;

/**
 * Redis lock over resources (run ids): SET-if-free with a token, compare-and-delete release,
 * extended while the critical section runs. Acquisition retries with exponential backoff and
 * jitter until the timeout. Re-entrant through AsyncLocalStorage: nested calls in the same async
 * chain only acquire what the chain does not hold yet. Work started inside the section (even
 * detached) shares the holder's lock while it is held, and acquires normally once it was released.
 */
export class RunLocker implements RunLockerApi {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly settings: Required<Omit<RunLockerOptions, "redis" | "keyPrefix">>;
  private readonly storage = new AsyncLocalStorage<Held>();
  private readonly scripts;

  constructor(options: RunLockerOptions) {
    this.redis = createRedisClient(options.redis, "run-locker");
    this.prefix = options.keyPrefix ?? "runlock:";
    this.settings = {
      durationMs: options.durationMs ?? 5000,
      extendBeforeMs: options.extendBeforeMs ?? 1000,
      retryDelayMs: options.retryDelayMs ?? 100,
      retryFactor: options.retryFactor ?? 1.8,
      maxRetryDelayMs: options.maxRetryDelayMs ?? 3000,
      jitter: options.jitter ?? 0.15,
      acquireTimeoutMs: options.acquireTimeoutMs ?? 15_000,
    };
    this.scripts = {
      acquire: acquireLockScript(this.redis),
      extend: extendLockScript(this.redis),
      release: releaseLockScript(this.redis),
    };
  }

  isHeld(resource: string): boolean {
    return this.storage.getStore()?.get(resource)?.active ?? false;
  }

  async lock<T>(resources: string[], fn: (context: LockContext) => Promise<T>, options: LockOptions = {}): Promise<T> {
    const outer = new Map([...(this.storage.getStore() ?? [])].filter(([, frame]) => frame.active));
    const wanted = [...new Set(resources)];
    const missing = wanted.filter((r) => !outer.has(r)).sort();
    const inherited = [...new Set(wanted.filter((r) => outer.has(r)).map((r) => outer.get(r)!.signal))];
    if (missing.length === 0) return fn({ signal: combine(inherited) });

    const keys = missing.map((r) => this.prefix + r);
    const token = randomBytes(16).toString("hex");
    await this.acquire(keys, token, missing, options.acquireTimeoutMs ?? this.settings.acquireTimeoutMs);

    const lost = new AbortController();
    const stopExtending = this.keepExtended(keys, token, lost);
    const frame: Frame = { active: true, signal: lost.signal };
    const held = new Map(outer);
    for (const r of missing) held.set(r, frame);
    const signal = combine([...inherited, lost.signal]);
    try {
      return await this.storage.run(held, () => fn({ signal }));
    } finally {
      frame.active = false;
      stopExtending();
      await this.scripts.release(keys, token).catch(() => undefined); // expiry frees it anyway
    }
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private async acquire(keys: string[], token: string, resources: string[], timeoutMs: number): Promise<void> {
    const { durationMs, retryDelayMs, retryFactor, maxRetryDelayMs, jitter } = this.settings;
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      if (await this.scripts.acquire(keys, token, durationMs)) return;
      const elapsed = Date.now() - started;
      if (elapsed >= timeoutMs) throw new LockAcquisitionTimeoutError(resources, elapsed);
      const base = Math.min(maxRetryDelayMs, retryDelayMs * retryFactor ** attempt);
      const delay = base * (1 + jitter * (2 * Math.random() - 1));
      await sleep(Math.max(1, Math.min(delay, timeoutMs - elapsed)));
    }
  }

  /** Extends `extendBeforeMs` ahead of expiry until stopped; aborts `lost` if the lock slipped away. */
  private keepExtended(keys: string[], token: string, lost: AbortController): () => void {
    const { durationMs, extendBeforeMs } = this.settings;
    const every = Math.max(10, durationMs - extendBeforeMs);
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const schedule = (delay: number) => {
      timer = setTimeout(async () => {
        if (stopped) return;
        let ok: boolean | "error";
        try {
          ok = await this.scripts.extend(keys, token, durationMs);
        } catch {
          ok = "error"; // Redis hiccup: try again soon, the lock may still be ours
        }
        if (stopped) return;
        if (ok === "error") schedule(Math.min(every, 100));
        else if (!ok) lost.abort(new Error(`Lock on ${keys.join(", ")} was lost`));
        else schedule(every);
      }, delay);
      timer.unref?.();
    };
    schedule(every);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }
}

function combine(signals: AbortSignal[]): AbortSignal {
  return signals.length === 1 ? signals[0]! : AbortSignal.any(signals);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
