import type { WorkerTaskRunError } from "./protocol.js";

/** Throw this from a task to fail the run at once: the server does not retry it. */
export class AbortTaskRunError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "AbortTaskRunError";
  }
}

/** The error of a wait token that timed out before it was completed. */
export class WaitpointTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WaitpointTimeoutError";
  }
}

/** A failure reported by another run (a child of triggerAndWait), rebuilt from its serialized form. */
export class TaskRunError extends Error {
  readonly type: WorkerTaskRunError["type"];
  readonly code?: string;
  readonly raw?: string;
  constructor(serialized: WorkerTaskRunError) {
    super(serialized.message);
    this.type = serialized.type;
    this.name = serialized.name ?? (serialized.type === "INTERNAL_ERROR" ? "InternalError" : "Error");
    if (serialized.code !== undefined) this.code = serialized.code;
    if (serialized.raw !== undefined) this.raw = serialized.raw;
    if (serialized.stackTrace) this.stack = serialized.stackTrace;
  }
}

/** An HTTP answer outside 2xx from the Runplane server. */
export class ApiError extends Error {
  readonly status: number;
  readonly body: unknown;
  constructor(status: number, message: string, body: unknown) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.body = body;
  }
}

/** 409: the snapshot id we sent is no longer the run's latest. */
export class StaleSnapshotError extends ApiError {
  readonly latestSnapshotId: string;
  constructor(latestSnapshotId: string, body: unknown) {
    super(409, `stale snapshot (latest is ${latestSnapshotId})`, body);
    this.name = "StaleSnapshotError";
    this.latestSnapshotId = latestSnapshotId;
  }
}

/** The server answered 2xx but with a body that does not match the protocol. */
export class ApiSchemaError extends Error {
  constructor(
    readonly path: string,
    readonly issues: string,
  ) {
    super(`Unexpected response from ${path}: ${issues}`);
    this.name = "ApiSchemaError";
  }
}

/** Raised inside a task when its attempt was interrupted (cancelled, timed out or shut down). */
export class AttemptInterruptedError extends Error {
  constructor(readonly reason: "cancelled" | "maxDuration" | "shutdown") {
    super(`The attempt was interrupted (${reason})`);
    this.name = "AttemptInterruptedError";
  }
}

export const ERROR_LIMITS = { name: 1024, message: 16_384, stackTrace: 16_384, raw: 16_384 } as const;

function truncate(value: string, max: number): string {
  return value.length <= max ? value : value.slice(0, max - 1) + "…";
}

function stringifyUnknown(value: unknown): string {
  try {
    const json = JSON.stringify(value);
    if (json !== undefined) return json;
  } catch {
    // fall through: cycles, BigInt
  }
  return String(value);
}

/**
 * Turns whatever a task threw into the protocol's error shape.
 * - `Error` instances (built-in or subclassed) → BUILT_IN_ERROR with their own name, message and stack.
 * - a thrown string → STRING_ERROR.
 * - anything else (objects, numbers, null) → CUSTOM_ERROR with its JSON in `raw`.
 */
export function serializeError(error: unknown): WorkerTaskRunError {
  if (error instanceof Error) {
    const name = typeof error.name === "string" && error.name.length > 0 ? error.name : "Error";
    const out: WorkerTaskRunError = {
      type: "BUILT_IN_ERROR",
      name: truncate(name, ERROR_LIMITS.name),
      message: truncate(String(error.message ?? ""), ERROR_LIMITS.message),
    };
    if (typeof error.stack === "string") out.stackTrace = truncate(error.stack, ERROR_LIMITS.stackTrace);
    return out;
  }
  if (typeof error === "string") {
    return { type: "STRING_ERROR", message: truncate(error, ERROR_LIMITS.message), raw: truncate(error, ERROR_LIMITS.raw) };
  }
  const raw = stringifyUnknown(error);
  return { type: "CUSTOM_ERROR", message: truncate(raw, ERROR_LIMITS.message), raw: truncate(raw, ERROR_LIMITS.raw) };
}

export function internalError(code: string, message: string): WorkerTaskRunError {
  return { type: "INTERNAL_ERROR", code, message };
}

/** True for errors that must never be retried, whatever the task's retry policy. */
/** Marks an error whose attempt must not be retried, whatever its name (a trigger.dev task decided so). */
export const SKIP_RETRYING: unique symbol = Symbol.for("runplane.worker.skipRetrying") as never;

export function shouldSkipRetrying(error: unknown): boolean {
  return (
    error instanceof AbortTaskRunError ||
    (error instanceof Error && (error.name === "AbortTaskRunError" || (error as { [SKIP_RETRYING]?: boolean })[SKIP_RETRYING] === true))
  );
}

