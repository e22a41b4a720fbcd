import { Recorder } from "./recorder.js";
import { Sender } from "./sender.js";
import type { LoadResult, OpenLoopOptions } from "./types.js";

/**
 * Open loop on a fixed schedule: request i is due at start + i·(1000/rate) ms, whatever happened
 * to earlier requests. Latency is measured from that intended time, so a stalled server shows up
 * as latency of every request that should have been sent during the stall (no coordinated
 * omission, as in wrk2). At most `maxInFlight` requests are on the wire; due requests beyond that
 * wait in the generator (only a counter, no memory) and leave as soon as a slot frees.
 *
 * Every scheduled request is sent unless `signal` aborts or the drain timeout cuts the run off.
 */
/**
 * Node timers fire on whole milliseconds and late, so requests due within this window are sent
 * now rather than after another timer round. Such a request's latency counts from its actual
 * send; the rate over any window longer than this is unchanged.
 */
const EARLY_MS = 1;

export async function runOpenLoop(opts: OpenLoopOptions): Promise<LoadResult> {
  if (!(opts.rate > 0)) throw new Error("runOpenLoop: rate must be > 0");
  if (opts.durationMs === undefined && opts.requests === undefined) {
    throw new Error("runOpenLoop: give durationMs or requests");
  }
  const sender = new Sender(opts);
  const interval = 1000 / opts.rate;
  const warmupMs = opts.warmupMs ?? 0;
  const warmupCount = Math.round((warmupMs * opts.rate) / 1000);
  const measuredCount = opts.requests ?? Math.round(((opts.durationMs ?? 0) * opts.rate) / 1000);
  const total = warmupCount + measuredCount;
  const maxInFlight = Math.max(1, opts.maxInFlight ?? sender.connections);
  const drainTimeoutMs = opts.drainTimeoutMs ?? 60_000;

  const start = performance.now() + 2; // small lead so request 0 is not already late
  const t0 = start + warmupCount * interval;
  const scheduleEnd = start + total * interval;
  const recorder = new Recorder(t0);

  let next = 0;
  let inFlight = 0;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));

  const checkDone = () => {
    if (inFlight === 0 && (next >= total || stopped)) finish();
  };

  const pump = () => {
    if (stopped) return checkDone();
    if (opts.signal?.aborted) {
      stopped = true;
      return checkDone();
    }
    const now = performance.now();
    while (next < total && inFlight < maxInFlight) {
      const intendedAt = start + next * interval;
      if (intendedAt > now + EARLY_MS) break;
      const i = next++;
      const measured = i >= warmupCount;
      inFlight++;
      void sender.send(i, intendedAt, measured ? recorder : null, true).then(onDone);
    }
    if (next >= total) return checkDone();
    if (inFlight < maxInFlight && timer === null) {
      const wait = Math.max(0, start + next * interval - EARLY_MS - performance.now());
      timer = setTimeout(onTimer, wait);
    }
  };
  const onTimer = () => {
    timer = null;
    pump();
  };
  const onDone = () => {
    inFlight--;
    if (stopped) return checkDone();
    pump();
  };

  const onAbort = () => pump();
  opts.signal?.addEventListener("abort", onAbort);

  let abandoned = 0;
  let cut = false;
  pump();
  let guard: NodeJS.Timeout | undefined;
  const drainDeadline = new Promise<"timeout">((resolve) => {
    guard = setTimeout(() => resolve("timeout"), Math.max(0, scheduleEnd + drainTimeoutMs - performance.now()));
  });
  const how = await Promise.race([finished.then(() => "done" as const), drainDeadline]);
  clearTimeout(guard);
  opts.signal?.removeEventListener("abort", onAbort);
  if (timer) clearTimeout(timer);
  const cutAt = performance.now();
  if (how === "timeout") {
    cut = true;
    stopped = true;
    abandoned = inFlight;
    recorder.freeze(); // requests failed by the cut-off below are counted as abandoned, not errors
  }
  const notSent = total - next;
  if (cut) await sender.destroy();
  else await sender.close();

  const measuredNotSent = Math.min(notSent, measuredCount);
  const last = cut ? cutAt : recorder.lastDoneAt;
  const end = Math.max(last, opts.durationMs !== undefined ? t0 + opts.durationMs : last);
  const result = recorder.build(
    { mode: "open", url: opts.url, connections: sender.connections, targetRate: opts.rate },
    Math.max(0, end - t0),
    measuredNotSent,
    abandoned,
    true,
  );
  return result;
}
