/**
 * Run statuses: the internal TaskRunStatus the engine stores, the public status the SDK's enum
 * accepts (API version 2025-07-16), the mapping between them, and the boolean helpers of the run
 * object.
 */
import { z } from "zod";

export const INTERNAL_RUN_STATUSES = [
  "DELAYED",
  "PENDING",
  "PENDING_VERSION",
  "DEQUEUED",
  "EXECUTING",
  "WAITING_TO_RESUME",
  "RETRYING_AFTER_FAILURE",
  "PAUSED",
  "CANCELED",
  "INTERRUPTED",
  "COMPLETED_SUCCESSFULLY",
  "COMPLETED_WITH_ERRORS",
  "SYSTEM_FAILURE",
  "CRASHED",
  "EXPIRED",
  "TIMED_OUT",
] as const;
export const InternalRunStatus = z.enum(INTERNAL_RUN_STATUSES);
export type InternalRunStatus = z.infer<typeof InternalRunStatus>;

export const FINAL_INTERNAL_RUN_STATUSES: readonly InternalRunStatus[] = [
  "CANCELED",
  "INTERRUPTED",
  "COMPLETED_SUCCESSFULLY",
  "COMPLETED_WITH_ERRORS",
  "SYSTEM_FAILURE",
  "CRASHED",
  "EXPIRED",
  "TIMED_OUT",
];

/** The "failed" subset of the final statuses (CANCELED and EXPIRED are final but not failures). */
export const FAILED_INTERNAL_RUN_STATUSES: readonly InternalRunStatus[] = [
  "INTERRUPTED",
  "COMPLETED_WITH_ERRORS",
  "SYSTEM_FAILURE",
  "CRASHED",
  "TIMED_OUT",
];

export function isFinalInternalStatus(status: InternalRunStatus): boolean {
  return FINAL_INTERNAL_RUN_STATUSES.includes(status);
}

/** Exactly the 13 values of the client's `RunStatus` enum; anything else fails its parse. */
export const PUBLIC_RUN_STATUSES = [
  "PENDING_VERSION",
  "QUEUED",
  "DEQUEUED",
  "EXECUTING",
  "WAITING",
  "COMPLETED",
  "CANCELED",
  "FAILED",
  "CRASHED",
  "SYSTEM_FAILURE",
  "DELAYED",
  "EXPIRED",
  "TIMED_OUT",
] as const;
export const PublicRunStatus = z.enum(PUBLIC_RUN_STATUSES);
export type PublicRunStatus = z.infer<typeof PublicRunStatus>;

const TO_PUBLIC: Record<InternalRunStatus, PublicRunStatus> = {
  DELAYED: "DELAYED",
  PENDING: "QUEUED",
  PENDING_VERSION: "PENDING_VERSION",
  DEQUEUED: "DEQUEUED",
  EXECUTING: "EXECUTING",
  RETRYING_AFTER_FAILURE: "EXECUTING",
  WAITING_TO_RESUME: "WAITING",
  PAUSED: "WAITING",
  CANCELED: "CANCELED",
  COMPLETED_SUCCESSFULLY: "COMPLETED",
  COMPLETED_WITH_ERRORS: "FAILED",
  INTERRUPTED: "FAILED",
  SYSTEM_FAILURE: "SYSTEM_FAILURE",
  CRASHED: "CRASHED",
  EXPIRED: "EXPIRED",
  TIMED_OUT: "TIMED_OUT",
};

/**
 * Internal → public. Takes a string so rows from older data can be mapped: the deprecated
 * `WAITING_FOR_DEPLOY` becomes `PENDING_VERSION`; anything unknown becomes `QUEUED`, which is
 * what the client's realtime mapping does too.
 */
export function toPublicRunStatus(status: InternalRunStatus | string): PublicRunStatus {
  if (status === "WAITING_FOR_DEPLOY") return "PENDING_VERSION";
  return (TO_PUBLIC as Record<string, PublicRunStatus>)[status] ?? "QUEUED";
}

const FROM_PUBLIC: Record<PublicRunStatus, InternalRunStatus[]> = (() => {
  const out = Object.fromEntries(PUBLIC_RUN_STATUSES.map((s) => [s, [] as InternalRunStatus[]])) as Record<
    PublicRunStatus,
    InternalRunStatus[]
  >;
  for (const internal of INTERNAL_RUN_STATUSES) out[TO_PUBLIC[internal]].push(internal);
  return out;
})();

/**
 * Public → every internal status that shows as it, for `filter[status]`. The exact inverse of
 * {@link toPublicRunStatus}: `FAILED` matches COMPLETED_WITH_ERRORS and INTERRUPTED, `EXECUTING`
 * also matches RETRYING_AFTER_FAILURE, `WAITING` also PAUSED.
 */
export function toInternalRunStatuses(statuses: readonly PublicRunStatus[]): InternalRunStatus[] {
  const out = new Set<InternalRunStatus>();
  for (const status of statuses) for (const internal of FROM_PUBLIC[status]) out.add(internal);
  return [...out];
}

export interface RunStatusFlags {
  isQueued: boolean;
  isExecuting: boolean;
  isWaiting: boolean;
  isCompleted: boolean;
  isSuccess: boolean;
  isFailed: boolean;
  isCancelled: boolean;
}

const QUEUED: readonly PublicRunStatus[] = ["QUEUED", "DELAYED", "PENDING_VERSION"];
const EXECUTING: readonly PublicRunStatus[] = ["EXECUTING", "DEQUEUED"];
const FAILED: readonly PublicRunStatus[] = ["FAILED", "CRASHED", "SYSTEM_FAILURE", "EXPIRED", "TIMED_OUT"];

/**
 * The run object's boolean helpers.
 *
 * - `isCompleted` is true for **every** final status, EXPIRED, TIMED_OUT and CANCELED included:
 *   `runs.poll` stops only on `isCompleted`, and would otherwise spin 500 times on those runs.
 * - `isFailed` is the five failure statuses; a cancelled run is `isCancelled`, not failed. This
 *   is also what the client computes itself for realtime rows, so both surfaces agree.
 */
export function runStatusFlags(status: PublicRunStatus): RunStatusFlags {
  const isSuccess = status === "COMPLETED";
  const isCancelled = status === "CANCELED";
  const isFailed = FAILED.includes(status);
  return {
    isQueued: QUEUED.includes(status),
    isExecuting: EXECUTING.includes(status),
    isWaiting: status === "WAITING",
    isCompleted: isSuccess || isCancelled || isFailed,
    isSuccess,
    isFailed,
    isCancelled,
  };
}

// ---------------------------------------------------------------------------------------------
// Batches and waitpoint tokens
// ---------------------------------------------------------------------------------------------

export const BATCH_STATUSES = ["PENDING", "PROCESSING", "COMPLETED", "PARTIAL_FAILED", "ABORTED"] as const;
export const BatchStatus = z.enum(BATCH_STATUSES);
export type BatchStatus = z.infer<typeof BatchStatus>;

export const WAITPOINT_TOKEN_STATUSES = ["WAITING", "COMPLETED", "TIMED_OUT"] as const;
export const WaitpointTokenStatus = z.enum(WAITPOINT_TOKEN_STATUSES);
export type WaitpointTokenStatus = z.infer<typeof WaitpointTokenStatus>;

/** A token is WAITING while pending; once completed it is TIMED_OUT if its output is an error. */
export function toWaitpointTokenStatus(waitpoint: {
  status: "PENDING" | "COMPLETED";
  outputIsError: boolean;
}): WaitpointTokenStatus {
  if (waitpoint.status === "PENDING") return "WAITING";
  return waitpoint.outputIsError ? "TIMED_OUT" : "COMPLETED";
}
