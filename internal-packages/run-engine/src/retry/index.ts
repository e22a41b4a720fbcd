import { z } from "zod";
import type { TaskRunErrorShape } from "../eventBus/index.js";

/** A task's retry settings as registered by the worker (all optional). */
export const RetryConfigSchema = z
  .object({
    maxAttempts: z.number().int().min(1).max(250).optional(),
    factor: z.number().min(1).max(10).optional(),
    minTimeoutInMs: z.number().int().min(0).optional(),
    maxTimeoutInMs: z.number().int().min(0).optional(),
    randomize: z.boolean().optional(),
  })
  .passthrough();
export type RetryConfig = z.infer<typeof RetryConfigSchema>;

export type ResolvedRetryPolicy = Required<Pick<RetryConfig, "maxAttempts" | "factor" | "minTimeoutInMs" | "maxTimeoutInMs" | "randomize">>;

export const DEFAULT_RETRY_POLICY: ResolvedRetryPolicy = {
  maxAttempts: 3,
  factor: 2,
  minTimeoutInMs: 1000,
  maxTimeoutInMs: 60_000,
  randomize: true,
};

/** Hard ceiling on attempts whatever the configuration says. */
export const MAX_TASK_RUN_ATTEMPTS = 250;

export function resolveRetryPolicy(config: unknown, defaults: ResolvedRetryPolicy = DEFAULT_RETRY_POLICY): ResolvedRetryPolicy {
  const parsed = RetryConfigSchema.safeParse(config ?? {});
  const c = parsed.success ? parsed.data : {};
  return {
    maxAttempts: c.maxAttempts ?? defaults.maxAttempts,
    factor: c.factor ?? defaults.factor,
    minTimeoutInMs: c.minTimeoutInMs ?? defaults.minTimeoutInMs,
    maxTimeoutInMs: Math.max(c.maxTimeoutInMs ?? defaults.maxTimeoutInMs, c.minTimeoutInMs ?? 0),
    randomize: c.randomize ?? defaults.randomize,
  };
}

/**
 * Delay before the next attempt after `failedAttempt` failed, or null when no attempt is left.
 * delay = min(maxTimeout, r × minTimeout × factor^(attempt−1)), r ∈ [1, 2) when randomised.
 */
export function nextRetryDelayMs(
  policy: ResolvedRetryPolicy,
  failedAttempt: number,
  maxAttempts: number,
  random: () => number = Math.random
): number | null {
  if (failedAttempt >= Math.min(maxAttempts, MAX_TASK_RUN_ATTEMPTS)) return null;
  const r = policy.randomize ? 1 + random() : 1;
  const raw = r * policy.minTimeoutInMs * Math.pow(policy.factor, Math.max(0, failedAttempt - 1));
  return Math.round(Math.min(policy.maxTimeoutInMs, raw));
}

/** Internal error codes that never retry. */
export const NON_RETRYABLE_INTERNAL_CODES = new Set([
  "COULD_NOT_FIND_EXECUTOR",
  "COULD_NOT_FIND_TASK",
  "COULD_NOT_IMPORT_TASK",
  "CONFIGURED_INCORRECTLY",
  "TASK_ALREADY_RUNNING",
  "TASK_PROCESS_SIGKILL_TIMEOUT",
  "TASK_PROCESS_OOM_KILLED",
  "TASK_PROCESS_MAYBE_OOM_KILLED",
  "TASK_RUN_CANCELLED",
  "MAX_DURATION_EXCEEDED",
  "DISK_SPACE_EXCEEDED",
  "OUTDATED_SDK_VERSION",
  "TASK_RUN_HEARTBEAT_TIMEOUT",
  "TASK_DID_CONCURRENT_WAIT",
  "RECURSIVE_WAIT_DEADLOCK",
  "TASK_DEQUEUED_INVALID_STATE",
  "TASK_DEQUEUED_QUEUE_NOT_FOUND",
  "TASK_HAS_N0_EXECUTION_SNAPSHOT",
  "TASK_RUN_DEQUEUED_MAX_RETRIES",
  "BATCH_ITEM_COULD_NOT_TRIGGER",
  "PAYLOAD_TOO_LARGE",
  "UNSPECIFIED_ERROR",
]);

const CRASH_CODES = new Set([
  "TASK_PROCESS_OOM_KILLED",
  "TASK_PROCESS_MAYBE_OOM_KILLED",
  "TASK_PROCESS_SIGSEGV",
  "DISK_SPACE_EXCEEDED",
  "OUTDATED_SDK_VERSION",
  "HANDLE_ERROR_ERROR",
  "TASK_RUN_CRASHED",
  "TASK_PROCESS_EXITED_WITH_NON_ZERO_CODE",
]);

const ERRORS_STATUS_CODES = new Set([
  "RECURSIVE_WAIT_DEADLOCK",
  "TASK_INPUT_ERROR",
  "TASK_OUTPUT_ERROR",
  "TASK_MIDDLEWARE_ERROR",
  "TASK_RUN_UNCAUGHT_EXCEPTION",
  "TASK_RUN_STALLED_EXECUTING",
  "TASK_RUN_STALLED_EXECUTING_WITH_WAITPOINTS",
]);

export function isRetryableError(error: TaskRunErrorShape): boolean {
  return error.type !== "INTERNAL_ERROR" || !NON_RETRYABLE_INTERNAL_CODES.has(error.code);
}

export type FinalFailureStatus = "COMPLETED_WITH_ERRORS" | "CANCELED" | "TIMED_OUT" | "CRASHED" | "SYSTEM_FAILURE";

/** The run status a failure ends in once no retry is left. */
export function finalStatusForError(error: TaskRunErrorShape): FinalFailureStatus {
  if (error.type !== "INTERNAL_ERROR") return "COMPLETED_WITH_ERRORS";
  if (error.code === "TASK_RUN_CANCELLED") return "CANCELED";
  if (error.code === "MAX_DURATION_EXCEEDED") return "TIMED_OUT";
  if (ERRORS_STATUS_CODES.has(error.code)) return "COMPLETED_WITH_ERRORS";
  if (CRASH_CODES.has(error.code)) return "CRASHED";
  return "SYSTEM_FAILURE";
}

const MAX_TEXT = 16 * 1024;
function clip(text: string | undefined, max = MAX_TEXT): string | undefined {
  if (text === undefined) return undefined;
  const clean = text.replace(/\u0000/g, "");
  return clean.length > max ? clean.slice(0, max) : clean;
}

/** NULs stripped, names ≤ 1 KiB, messages and stacks ≤ 16 KiB. */
export function sanitizeError(error: TaskRunErrorShape): TaskRunErrorShape {
  switch (error.type) {
    case "BUILT_IN_ERROR":
      return { type: error.type, name: clip(error.name, 1024)!, message: clip(error.message)!, stackTrace: clip(error.stackTrace) };
    case "CUSTOM_ERROR":
    case "STRING_ERROR":
      return { type: error.type, raw: clip(error.raw)! };
    case "INTERNAL_ERROR":
      return { type: error.type, code: error.code, message: clip(error.message), stackTrace: clip(error.stackTrace) };
  }
}
