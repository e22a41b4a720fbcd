import { createHash } from "node:crypto";

/**
 * Trace identity shared by the server (engine lifecycle spans) and the worker (its attempt spans and
 * log records): both derive the same ids from the run, so the two halves of a trace meet without a
 * round trip.
 */

/** Attributes (resource, span or log record) that name the run a record belongs to: ours and trigger.dev's. */
export const RUN_ID_ATTRIBUTE_KEYS = ["ctx.run.id", "$metadata.ctx.run.id", "$run.id", "run.id", "runplane.run.id"] as const;
/** Attribute naming the attempt a record belongs to (trigger.dev's spelling, which we also send). */
export const ATTEMPT_NUMBER_ATTRIBUTE = "ctx.attempt.number";

const HEX = /^[0-9a-f]+$/;

function digest(input: string, hexChars: number): string {
  return createHash("sha256").update(input).digest("hex").slice(0, hexChars);
}

/** A W3C trace id (32 hex) for a run's stored trace id: kept when it already is one, else derived from it. */
export function toW3cTraceId(traceId: string): string {
  return traceId.length === 32 && HEX.test(traceId) ? traceId : digest(`trace:${traceId}`, 32);
}

/** A W3C span id (16 hex): kept when it already is one, else derived. */
export function toW3cSpanId(spanId: string): string {
  return spanId.length === 16 && HEX.test(spanId) ? spanId : digest(`span:${spanId}`, 16);
}

/** The span of one attempt of a run (friendly run id). */
export function attemptSpanId(runFriendlyId: string, attemptNumber: number): string {
  return digest(`attempt:${runFriendlyId}:${attemptNumber}`, 16);
}

/** The span covering the time a run spent queued before its first attempt. */
export function queuedSpanId(runFriendlyId: string): string {
  return digest(`queued:${runFriendlyId}`, 16);
}

/** The span of one wait of a run on a waitpoint. */
export function waitSpanId(runFriendlyId: string, waitpointId: string): string {
  return digest(`wait:${runFriendlyId}:${waitpointId}`, 16);
}

/** The delay before retry attempt `nextAttempt`. */
export function retrySpanId(runFriendlyId: string, nextAttempt: number): string {
  return digest(`retry:${runFriendlyId}:${nextAttempt}`, 16);
}
