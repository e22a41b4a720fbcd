import type { TaskRunExecutionStatus, TaskRunStatus } from "@internal/run-store";

export const FINAL_RUN_STATUSES: TaskRunStatus[] = [
  "CANCELED",
  "INTERRUPTED",
  "COMPLETED_SUCCESSFULLY",
  "COMPLETED_WITH_ERRORS",
  "SYSTEM_FAILURE",
  "CRASHED",
  "EXPIRED",
  "TIMED_OUT",
];

export const FAILED_RUN_STATUSES: TaskRunStatus[] = ["INTERRUPTED", "COMPLETED_WITH_ERRORS", "SYSTEM_FAILURE", "CRASHED", "TIMED_OUT"];

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
