/**
 * Header names of the SDK contract, lower-cased as Node and fetch report them.
 */
/** Sent by the client on every JSON call. */
export const RequestHeader = {
  authorization: "authorization",
  /** SDK version, e.g. `4.8.3`. */
  sdkVersion: "trigger-version",
  /** `2025-07-16`: selects the v2 public status names. */
  apiVersion: "x-trigger-api-version",
  /** `sdk`. */
  source: "x-trigger-source",
  /** `v1` or `v2`. */
  realtimeStreamsVersion: "x-trigger-realtime-streams-version",
  /** A uuid per logical call, reused across the client's automatic retries. */
  requestIdempotencyKey: "x-trigger-request-idempotency-key",
  /** Child environment selector for PREVIEW (required) and DEVELOPMENT branches. */
  branch: "x-trigger-branch",
  /** `true` when the call comes from inside a running task. */
  worker: "x-trigger-worker",
  /** `V2` inside a task. */
  engineVersion: "x-trigger-engine-version",
  /** `1` on fire-and-forget trigger and batch calls from inside a task. */
  spanParentAsLink: "x-trigger-span-parent-as-link",
  /** `browser` from browsers. */
  client: "x-trigger-client",
  /** Realtime feeds only: `1.0.0-beta.1`. */
  electricVersion: "x-trigger-electric-version",
  /** Overrides `options.idempotencyKey` on trigger (raw callers). */
  idempotencyKey: "idempotency-key",
  idempotencyKeyTtl: "idempotency-key-ttl",
  traceparent: "traceparent",
  tracestate: "tracestate",
} as const;

/** Set by the server. */
export const ResponseHeader = {
  /** The public access token the SDK returns as `publicAccessToken` (trigger, createBatch, token create). */
  jwt: "x-trigger-jwt",
  /** JSON claims the SDK merges into a self-signed token when `x-trigger-jwt` is absent. */
  jwtClaims: "x-trigger-jwt-claims",
  /** `true` / `false`: overrides the client's own retry decision for this status. */
  shouldRetry: "x-should-retry",
  rateLimitLimit: "x-ratelimit-limit",
  rateLimitRemaining: "x-ratelimit-remaining",
  /** Unix epoch **milliseconds** at which the bucket refills. */
  rateLimitReset: "x-ratelimit-reset",
  retryAfter: "retry-after",
} as const;

export const API_VERSION_V2 = "2025-07-16";

export interface SdkRequestContext {
  sdkVersion?: string;
  /** True when the client asked for the 2025-07-16 status names (every 4.x client does). */
  v2Statuses: boolean;
  requestIdempotencyKey?: string;
  /** `undefined` for none and for `default`. */
  branch?: string;
  fromWorker: boolean;
  spanParentAsLink: boolean;
  idempotencyKeyOverride?: string;
  idempotencyKeyTtlOverride?: string;
}

/** Reads the SDK's headers from anything with a `get` (fetch `Headers`, or a wrapper over Node's). */
export function readSdkRequestHeaders(headers: { get(name: string): string | null }): SdkRequestContext {
  const get = (name: string) => headers.get(name) ?? undefined;
  const branch = get(RequestHeader.branch);
  return {
    sdkVersion: get(RequestHeader.sdkVersion),
    // Versions are ISO dates, so string order is date order.
    v2Statuses: (get(RequestHeader.apiVersion) ?? "") >= API_VERSION_V2,
    requestIdempotencyKey: get(RequestHeader.requestIdempotencyKey),
    branch: branch && branch !== "default" ? branch : undefined,
    fromWorker: get(RequestHeader.worker) === "true",
    spanParentAsLink: get(RequestHeader.spanParentAsLink) === "1",
    idempotencyKeyOverride: get(RequestHeader.idempotencyKey),
    idempotencyKeyTtlOverride: get(RequestHeader.idempotencyKeyTtl),
  };
}
