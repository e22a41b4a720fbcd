import { ConflictError, NotFoundError, UnprocessableError } from "@runplane/core";

/** A call carried a snapshot id that is no longer the run's latest (HTTP 409). */
export class StaleSnapshotError extends ConflictError {
  constructor(
    readonly runId: string,
    readonly givenSnapshotId: string,
    readonly latestSnapshotId: string | null,
    readonly latestExecutionStatus: string | null
  ) {
    super(`Snapshot ${givenSnapshotId} is not the latest snapshot of run ${runId}`);
  }
}

/** The run is not in a state that allows the call (HTTP 422: a valid request the run's state refuses). */
export class InvalidRunStateError extends UnprocessableError {
  constructor(
    readonly runId: string,
    readonly executionStatus: string,
    action: string
  ) {
    super(`Run ${runId} cannot ${action} while ${executionStatus}`);
  }
}

export class RunNotFoundError extends NotFoundError {
  constructor(readonly runId: string) {
    super(`Run ${runId} not found`);
  }
}

/** The snapshot id does not name a snapshot of this run (HTTP 404). */
export class SnapshotNotFoundError extends NotFoundError {
  constructor(
    readonly runId: string,
    readonly snapshotId: string
  ) {
    super(`Snapshot ${snapshotId} not found`);
  }
}

export class WaitpointNotFoundError extends NotFoundError {
  constructor(readonly waitpointId: string) {
    super(`Waitpoint ${waitpointId} not found`);
  }
}

/** Raised by createCancelledRun when a live, non-cancelled row already holds the id. */
export class CreateCancelledRunConflictError extends ConflictError {
  constructor(friendlyId: string, status: string) {
    super(`createCancelledRun conflict: existing run ${friendlyId} has status ${status}`);
  }
}

export { UnprocessableError };
