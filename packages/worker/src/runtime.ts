import { configuredPublicApi } from "./config.js";
import { currentRuntime, requireRuntime, type WaitTokenResult } from "./context.js";
import { durationToMs, resolveTimeout, type WaitDuration } from "./duration.js";
import { Logger, stdoutSink } from "./log.js";
import type { CreateTokenOptions, WaitToken } from "./publicApi.js";

function publicApi() {
  return currentRuntime()?.api ?? configuredPublicApi();
}

/** Waits inside a task's run(). Long waits block the run on the server; the process stays alive. */
export const wait = {
  /** Waits for a duration, e.g. `wait.for({ seconds: 30 })`. */
  async for(duration: WaitDuration): Promise<void> {
    const runtime = requireRuntime("wait.for");
    const ms = durationToMs(duration);
    await runtime.waitUntil(new Date(Date.now() + ms));
  },

  /** Waits until a date. A date in the past returns at once, or throws with `throwIfInThePast`. */
  async until(options: { date: Date; throwIfInThePast?: boolean }): Promise<void> {
    const runtime = requireRuntime("wait.until");
    if (!(options?.date instanceof Date) || Number.isNaN(options.date.getTime())) {
      throw new TypeError("wait.until needs { date: Date }");
    }
    if (options.date.getTime() <= Date.now()) {
      if (options.throwIfInThePast) throw new Error(`wait.until: ${options.date.toISOString()} is in the past`);
      return;
    }
    await runtime.waitUntil(options.date);
  },

  /** Creates a wait token (works outside a run too, with a configured client). */
  createToken(options: CreateTokenOptions = {}): Promise<WaitToken> {
    // Inside a run the token is run-owned: the server stores it beside the run.
    const runId = currentRuntime()?.ctx.run.id;
    return publicApi().createToken(runId ? { ownerRunId: runId, ...options } : options);
  },

  /** Completes a wait token with data; every run waiting on it resumes. */
  completeToken(token: string | { id: string }, data: unknown): Promise<{ success: boolean }> {
    return publicApi().completeToken(typeof token === "string" ? token : token.id, data);
  },

  /**
   * Waits until the token is completed (`{ ok: true, output }`) or times out (`{ ok: false, error }` with a
   * WaitpointTimeoutError). `timeout` is a duration like "10m" or a date.
   */
  forToken<TOutput = unknown>(
    token: string | { id: string },
    options: { timeout?: string | Date } = {},
  ): Promise<WaitTokenResult<TOutput>> {
    const runtime = requireRuntime("wait.forToken");
    const id = typeof token === "string" ? token : token.id;
    return runtime.waitForToken<TOutput>(id, resolveTimeout(options.timeout));
  },
};

/** Run metadata: changes apply locally at once and are flushed in batches (and at the end of the attempt). */
export const metadata = {
  set(key: string, value: unknown): void {
    requireRuntime("metadata.set").metadata.enqueue({ type: "set", key, value });
  },
  del(key: string): void {
    requireRuntime("metadata.del").metadata.enqueue({ type: "delete", key });
  },
  append(key: string, value: unknown): void {
    requireRuntime("metadata.append").metadata.enqueue({ type: "append", key, value });
  },
  remove(key: string, value: unknown): void {
    requireRuntime("metadata.remove").metadata.enqueue({ type: "remove", key, value });
  },
  increment(key: string, by = 1): void {
    if (!Number.isFinite(by)) throw new TypeError("metadata.increment needs a finite number");
    requireRuntime("metadata.increment").metadata.enqueue({ type: "increment", key, value: by });
  },
  decrement(key: string, by = 1): void {
    if (!Number.isFinite(by)) throw new TypeError("metadata.decrement needs a finite number");
    requireRuntime("metadata.decrement").metadata.enqueue({ type: "increment", key, value: -by });
  },
  /** Replaces the whole metadata object. */
  replace(value: Record<string, unknown>): void {
    requireRuntime("metadata.replace").metadata.enqueue({ type: "update", value });
  },
  /** The current value of a key (a top-level key, or a `$.a.b` path); undefined outside a run. */
  get(key: string): unknown {
    return currentRuntime()?.metadata.get(key);
  },
  current(): Record<string, unknown> {
    return currentRuntime()?.metadata.current() ?? {};
  },
  /** Sends queued changes now. */
  flush(): Promise<void> {
    return requireRuntime("metadata.flush").metadata.flush();
  },
};

const fallbackLogger = new Logger({ level: "info", sink: stdoutSink });

function activeLogger(): Logger {
  return currentRuntime()?.logger ?? fallbackLogger;
}

/** Structured log lines on stdout, tagged with the run, task and attempt when called inside a run. */
export const logger = {
  debug: (message: string, fields?: Record<string, unknown>) => activeLogger().debug(message, fields),
  info: (message: string, fields?: Record<string, unknown>) => activeLogger().info(message, fields),
  warn: (message: string, fields?: Record<string, unknown>) => activeLogger().warn(message, fields),
  error: (message: string, fields?: Record<string, unknown>) => activeLogger().error(message, fields),
};
