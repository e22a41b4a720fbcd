import type { Dispatcher } from "undici";
import type { HistogramSummary } from "../histogram.js";

/** One request to send. `body` objects are sent as JSON (content-type added unless given). */
export interface RequestSpec {
  method?: string;
  /** Path (+ query) on the target origin; defaults to the path of `url`. */
  path?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array | Record<string, unknown> | unknown[];
  /** Results are also broken down by tag (e.g. env or org name). */
  tag?: string;
}

/** Builds the i-th request (i counts from 0 over the whole run, warm-up included). */
export type RequestFactory = (i: number) => RequestSpec;

export interface ResponseInfo {
  index: number;
  tag?: string;
  /** HTTP status, or 0 when the request failed without a response. */
  status: number;
  ok: boolean;
  /** Error code/name when status is 0. */
  error?: string;
  /** Epoch milliseconds (fractional), on the same clock as Date.now(). */
  intendedAt: number;
  sentAt: number;
  doneAt: number;
  /** Response body text, only when `readBody` is set. */
  body?: string;
  /** True for requests of the warm-up phase (not counted in the result). */
  warmup: boolean;
}

export interface CommonLoadOptions {
  /** Target, e.g. "http://127.0.0.1:3030/api/v1/tasks/hello/trigger". Its origin is used for the pool. */
  url: string;
  /** Per-request factory (unique payloads, idempotency keys, per-env API keys …). Default: GET `url`. */
  request?: RequestFactory;
  /** Keep-alive connections in the pool (default 50). */
  connections?: number;
  /** Not recorded: run this long first at the same load (default 0). */
  warmupMs?: number;
  /** Per-request headers/body timeout (default 30 s); a timeout counts as an error. */
  timeoutMs?: number;
  /** Which statuses count as accepted (default 2xx). */
  isOk?: (status: number) => boolean;
  /** Read the response body as text and pass it to `onResponse` (default: discard it). */
  readBody?: boolean;
  /** Called for every completed request (warm-up included, flagged). Keep it cheap. */
  onResponse?: (info: ResponseInfo) => void;
  /** Stops sending new requests when aborted; in-flight ones are still awaited. */
  signal?: AbortSignal;
  /** Use this dispatcher instead of creating (and closing) a Pool. */
  dispatcher?: Dispatcher;
}

export interface ClosedLoopOptions extends CommonLoadOptions {
  /** Measured duration (after warm-up). One of durationMs / requests is required. */
  durationMs?: number;
  /** Measured request count (after warm-up). */
  requests?: number;
}

export interface OpenLoopOptions extends CommonLoadOptions {
  /** Intended requests per second; request i is due at start + i/rate. */
  rate: number;
  /** Length of the measured schedule (after warm-up). One of durationMs / requests is required. */
  durationMs?: number;
  /** Number of measured requests on the schedule (after warm-up). */
  requests?: number;
  /**
   * Requests allowed in flight at once (default = connections). When all are busy, due requests
   * wait in the generator and are sent as soon as a slot frees; their latency still counts from
   * the intended time (no coordinated omission).
   */
  maxInFlight?: number;
  /** After the schedule ends, wait at most this long for stragglers (default 60 s). */
  drainTimeoutMs?: number;
}

export interface SecondPoint {
  /** Second index since the measured start (0 = [0 s, 1 s)). */
  t: number;
  /** Requests sent in this second. */
  sent: number;
  /** Accepted (ok) responses completed in this second. */
  ok: number;
  non2xx: number;
  errors: number;
  /** Latency of the requests completed in this second (ms). */
  p50: number;
  p99: number;
  max: number;
}

export interface TagResult {
  sent: number;
  ok: number;
  non2xx: number;
  errors: number;
  latency: HistogramSummary;
}

export interface LoadResult {
  mode: "closed" | "open";
  url: string;
  connections: number;
  /** Open loop only: the intended rate. */
  targetRate?: number;
  /** ISO time of the measured start. */
  startedAt: string;
  /** Measured window in ms: from measured start to the last completion (or end of duration). */
  elapsedMs: number;
  sent: number;
  completed: number;
  ok: number;
  /** Non-accepted responses by status code. */
  non2xx: Record<string, number>;
  /** Failures without a response, by error code. */
  errors: Record<string, number>;
  /** Open loop: scheduled requests never sent (stopped/aborted or drain timeout). */
  notSent: number;
  /** Requests still in flight when the run was cut off (drain timeout). */
  abandoned: number;
  /** ok / elapsed seconds. */
  acceptedPerSec: number;
  /** sent / elapsed seconds. */
  sentPerSec: number;
  /** (non-ok responses + errors) / completed. */
  errorRate: number;
  /**
   * Latency in ms. Open loop: from the *intended* send time when the request left late
   * (coordinated-omission corrected), from the actual send time when it left up to 1 ms early
   * (timer granularity). Closed loop: from the actual send time.
   */
  latency: HistogramSummary;
  /** From the actual send time to the end of the response (what a naive tool would report). */
  serviceLatency: HistogramSummary;
  /** Open loop: how late requests left the generator (actual − intended send time, ≥ 0), ms. */
  sendLag?: HistogramSummary;
  timeSeries: SecondPoint[];
  byTag: Record<string, TagResult>;
}
