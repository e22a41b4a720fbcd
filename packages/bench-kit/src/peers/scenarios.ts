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
  sent: number;
  started: number;
  /** Jobs added but not started when the send window closed, and at the end of the wait. */
  backlogAtWindowEnd: number;
  backlogAtEnd: number;
  /** Handler start − intended add time, ms, over the jobs that started. */
  latency: HistogramSummary;
  /** How late the generator itself issued adds (p99, ms): a large value means the load side could not keep up. */
  sendLagP99: number;
  addErrors: number;
}

/**
 * Open loop: a running worker with `concurrency`, and `rate` adds per second for `durationMs`, each not
 * awaited (the schedule never waits for the queue). Latency = handler start − the add's intended time.
 * Waits up to `drainTimeoutMs` after the window for the stragglers.
 */
export async function measureStartLatency(
  peer: PeerQueue,
  opts: { rate: number; durationMs: number; concurrency: number; drainTimeoutMs: number; payloadBytes: number },
): Promise<StartLatencyResult> {
  const latency = new Histogram();
  const sendLag = new Histogram();
  let started = 0;
  await peer.startWorker(opts.concurrency, (payload) => {
    latency.record(epochNow() - Number(payload.t));
    started++;
  });
  await sleep(500); // let the worker settle into waiting for jobs
  const total = Math.round((opts.rate * opts.durationMs) / 1000);
  const begin = epochNow();
  let addErrors = 0;
  const adds: Promise<void>[] = [];
  for (let i = 0; i < total; ) {
    const now = epochNow();
    while (i < total && begin + (i * 1000) / opts.rate <= now) {
      const due = begin + (i * 1000) / opts.rate;
      sendLag.record(now - due);
      adds.push(peer.add(benchPayload(i, opts.payloadBytes, { t: due })).catch(() => void addErrors++));
      i++;
    }
    if (i < total) await sleep(Math.max(0, begin + (i * 1000) / opts.rate - epochNow()));
  }
  const backlogAtWindowEnd = total - started;
  const deadline = epochNow() + opts.drainTimeoutMs;
  await Promise.all(adds);
  while (started + addErrors < total && epochNow() < deadline) await sleep(20);
  const backlogAtEnd = total - addErrors - started;
  await peer.stopWorker();
  return {
    rate: opts.rate,
    durationMs: opts.durationMs,
    sent: total,
    started,
    backlogAtWindowEnd,
    backlogAtEnd,
    latency: latency.summary(),
    sendLagP99: sendLag.percentile(99),
    addErrors,
  };
}
