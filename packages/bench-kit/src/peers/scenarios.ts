import { Histogram, type HistogramSummary } from "../histogram.js";
import { runClosedLoopOps, type OpsLoopResult } from "../load/ops.js";
import type { PeerQueue } from "./types.js";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const epochNow = () => performance.timeOrigin + performance.now();

/** A small JSON payload of about `bytes` bytes, the same shape every arm sends. */
export function benchPayload(i: number, bytes: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const base = JSON.stringify({ i, ...extra, pad: "" }).length;
  return { i, ...extra, pad: "x".repeat(Math.max(0, bytes - base)) };
}

/** Single adds, `concurrency` in flight, no worker running. */
export function measureAdd(peer: PeerQueue, opts: { concurrency: number; warmupMs: number; durationMs: number; payloadBytes: number }): Promise<OpsLoopResult> {
  return runClosedLoopOps({ ...opts, op: (i) => peer.add(benchPayload(i, opts.payloadBytes)) });
}

export interface DrainResult {
  jobs: number;
  done: number;
  concurrency: number;
  /** From the first handler call to the last (worker start-up excluded). */
  elapsedMs: number;
  perSec: number;
  timedOut: boolean;
}

/**
 * Pre-fills `jobs` (bulk adds of 500), then starts a worker with `concurrency` and waits until every job
 * has run or `timeoutMs` passed. The rate is measured between the first and the last handler call.
 */
export async function measureDrain(peer: PeerQueue, opts: { jobs: number; concurrency: number; timeoutMs: number; payloadBytes: number }): Promise<DrainResult> {
  for (let i = 0; i < opts.jobs; i += 500) {
    await peer.addMany(Array.from({ length: Math.min(500, opts.jobs - i) }, (_, k) => benchPayload(i + k, opts.payloadBytes)));
  }
  let done = 0;
  let first = 0;
  let last = 0;
  let finish!: () => void;
  const allDone = new Promise<void>((r) => (finish = r));
  await peer.startWorker(opts.concurrency, () => {
    const now = performance.now();
    if (done === 0) first = now;
    last = now;
    if (++done === opts.jobs) finish();
  });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([allDone.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), opts.timeoutMs)))]);
  clearTimeout(timer);
  await peer.stopWorker();
  const elapsedMs = Math.max(1, last - first);
  return { jobs: opts.jobs, done, concurrency: opts.concurrency, elapsedMs, perSec: done > 1 ? (done - 1) / (elapsedMs / 1000) : 0, timedOut };
}

export interface StartLatencyResult {
  rate: number;
  durationMs: number;
  /** Adds scheduled, and those the generator never issued before the deadline (all slots busy). */
  scheduled: number;
  notSent: number;
  started: number;
  /** Jobs scheduled but not started when the send window closed, and at the end of the wait. */
  backlogAtWindowEnd: number;
  backlogAtEnd: number;
  /** Handler start − intended add time, ms. Jobs that never started count with their age at the end: then the percentiles are lower bounds. */
  latency: HistogramSummary;
  lowerBound: boolean;
  /** How late the generator itself issued adds (p99, ms): a large value means the adds could not keep up. */
  sendLagP99: number;
  addErrors: number;
}

/**
 * Open loop: a running worker with `concurrency`, and `rate` adds per second for `durationMs`, at most
 * `maxInFlight` adds awaiting their library at once (later ones wait in the generator; their latency still
 * counts from their intended time). Latency = handler start − the add's intended time. Sending and waiting
 * both stop `drainTimeoutMs` after the window, so a queue that cannot keep up ends the scenario anyway.
 */
export async function measureStartLatency(
  peer: PeerQueue,
  opts: { rate: number; durationMs: number; concurrency: number; drainTimeoutMs: number; payloadBytes: number; maxInFlight?: number },
): Promise<StartLatencyResult> {
  const latency = new Histogram();
  const sendLag = new Histogram();
  let started = 0;
  const startedIndexes = new Set<number>();
  await peer.startWorker(opts.concurrency, (payload) => {
    latency.record(epochNow() - Number(payload.t));
    startedIndexes.add(Number(payload.i));
    started++;
  });
  await sleep(500); // let the worker settle into waiting for jobs
  const maxInFlight = opts.maxInFlight ?? 100;
  const total = Math.round((opts.rate * opts.durationMs) / 1000);
  const begin = epochNow();
  const windowEnd = begin + opts.durationMs;
  const deadline = windowEnd + opts.drainTimeoutMs;
  const dueAt = (i: number) => begin + (i * 1000) / opts.rate;
  let addErrors = 0;
  let inFlight = 0;
  let backlogAtWindowEnd: number | undefined;
  let i = 0;
  while (i < total) {
    const now = epochNow();
    if (now >= deadline) break;
    if (backlogAtWindowEnd === undefined && now >= windowEnd) backlogAtWindowEnd = total - started;
    while (i < total && inFlight < maxInFlight && dueAt(i) <= now) {
      sendLag.record(now - dueAt(i));
      inFlight++;
      peer
        .add(benchPayload(i, opts.payloadBytes, { t: dueAt(i) }))
        .catch(() => void addErrors++)
        .finally(() => inFlight--);
      i++;
    }
    if (i < total) await sleep(inFlight >= maxInFlight ? 1 : Math.max(0, dueAt(i) - epochNow()));
  }
  const notSent = total - i;
  while (epochNow() < windowEnd) await sleep(5);
  backlogAtWindowEnd ??= total - started;
  while (started + addErrors < i && epochNow() < deadline) await sleep(20);
  const startedAtEnd = started;
  const backlogAtEnd = total - addErrors - startedAtEnd;
  // jobs that never started count with their age now, as the Runplane arm counts its unstarted runs
  const endedAt = epochNow();
  for (let j = 0; j < total && backlogAtEnd > 0; j++) if (!startedIndexes.has(j)) latency.record(endedAt - dueAt(j));
  const summary = latency.summary();
  // adds still awaiting their library (at most maxInFlight) settle before the worker stops
  const settleBy = epochNow() + 5_000;
  while (inFlight > 0 && epochNow() < settleBy) await sleep(10);
  await peer.stopWorker();
  return {
    rate: opts.rate,
    durationMs: opts.durationMs,
    scheduled: total,
    notSent,
    started: startedAtEnd,
    backlogAtWindowEnd,
    backlogAtEnd,
    latency: summary,
    lowerBound: backlogAtEnd > 0,
    sendLagP99: sendLag.percentile(99),
    addErrors,
  };
}
