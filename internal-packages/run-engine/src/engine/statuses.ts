import type { TaskRunExecutionStatus, TaskRunStatus } from "@internal/run-store";
import { FAILED_INTERNAL_RUN_STATUSES, FINAL_INTERNAL_RUN_STATUSES } from "@runplane/core/schemas";

// The status lists are defined once, in core, beside the public status mapping.
export const FINAL_RUN_STATUSES = FINAL_INTERNAL_RUN_STATUSES as readonly TaskRunStatus[];
export const FAILED_RUN_STATUSES = FAILED_INTERNAL_RUN_STATUSES as readonly TaskRunStatus[];

export function isFinalRunStatus(status: TaskRunStatus): boolean {
  return FINAL_RUN_STATUSES.includes(status);
}

export function isExecuting(status: TaskRunExecutionStatus): boolean {
  return status === "EXECUTING" || status === "EXECUTING_WITH_WAITPOINTS";
}

export function isDequeueable(status: TaskRunExecutionStatus): boolean {
  return status === "QUEUED";
}

export function isFinishedOrPendingCancel(status: TaskRunExecutionStatus): boolean {
  return status === "FINISHED" || status === "PENDING_CANCEL";
}

/** Snapshot states that keep a heartbeat deadline. */
export const HEARTBEAT_STATUSES: TaskRunExecutionStatus[] = [
  "PENDING_EXECUTING",
  "EXECUTING",
  "EXECUTING_WITH_WAITPOINTS",
  "PENDING_CANCEL",
  "SUSPENDED",
];
