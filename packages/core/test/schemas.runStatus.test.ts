import { describe, expect, it } from "vitest";
import {
  FINAL_INTERNAL_RUN_STATUSES,
  INTERNAL_RUN_STATUSES,
  PUBLIC_RUN_STATUSES,
  isFinalInternalStatus,
  runStatusFlags,
  toInternalRunStatuses,
  toPublicRunStatus,
  toWaitpointTokenStatus,
  type PublicRunStatus,
} from "../src/schemas/index.js";

describe("internal → public status", () => {
  it.each([
    ["DELAYED", "DELAYED"],
    ["PENDING", "QUEUED"],
    ["PENDING_VERSION", "PENDING_VERSION"],
    ["WAITING_FOR_DEPLOY", "PENDING_VERSION"],
    ["DEQUEUED", "DEQUEUED"],
    ["EXECUTING", "EXECUTING"],
    ["RETRYING_AFTER_FAILURE", "EXECUTING"],
    ["WAITING_TO_RESUME", "WAITING"],
    ["PAUSED", "WAITING"],
    ["CANCELED", "CANCELED"],
    ["COMPLETED_SUCCESSFULLY", "COMPLETED"],
    ["COMPLETED_WITH_ERRORS", "FAILED"],
    ["INTERRUPTED", "FAILED"],
    ["SYSTEM_FAILURE", "SYSTEM_FAILURE"],
    ["CRASHED", "CRASHED"],
    ["EXPIRED", "EXPIRED"],
    ["TIMED_OUT", "TIMED_OUT"],
    ["SOMETHING_NEW", "QUEUED"],
  ])("%s → %s", (internal, expected) => {
    expect(toPublicRunStatus(internal)).toBe(expected);
  });

  it("only ever yields one of the client's 13 values", () => {
    expect(PUBLIC_RUN_STATUSES).toHaveLength(13);
    for (const status of INTERNAL_RUN_STATUSES) expect(PUBLIC_RUN_STATUSES).toContain(toPublicRunStatus(status));
  });

  it("maps filters back to every internal status that shows as them", () => {
    expect(toInternalRunStatuses(["FAILED"]).sort()).toEqual(["COMPLETED_WITH_ERRORS", "INTERRUPTED"]);
    expect(toInternalRunStatuses(["QUEUED"])).toEqual(["PENDING"]);
    expect(toInternalRunStatuses(["WAITING"]).sort()).toEqual(["PAUSED", "WAITING_TO_RESUME"]);
    expect(toInternalRunStatuses(["EXECUTING", "COMPLETED"]).sort()).toEqual([
      "COMPLETED_SUCCESSFULLY",
      "EXECUTING",
      "RETRYING_AFTER_FAILURE",
    ]);
    // Round trip: every internal status is found by the filter of its public status.
    for (const internal of INTERNAL_RUN_STATUSES) {
      expect(toInternalRunStatuses([toPublicRunStatus(internal)])).toContain(internal);
    }
  });
});

describe("boolean helpers", () => {
  const flags = (s: PublicRunStatus) => runStatusFlags(s);

  it("marks every final status completed, so runs.poll always ends", () => {
    for (const internal of INTERNAL_RUN_STATUSES) {
      expect(flags(toPublicRunStatus(internal)).isCompleted).toBe(isFinalInternalStatus(internal));
    }
    expect(FINAL_INTERNAL_RUN_STATUSES).toHaveLength(8);
  });

  it("keeps exactly one of queued / executing / waiting / completed true", () => {
    for (const status of PUBLIC_RUN_STATUSES) {
      const f = flags(status);
      expect([f.isQueued, f.isExecuting, f.isWaiting, f.isCompleted].filter(Boolean)).toHaveLength(1);
    }
  });

  it.each<[PublicRunStatus, Partial<ReturnType<typeof runStatusFlags>>]>([
    ["QUEUED", { isQueued: true }],
    ["DELAYED", { isQueued: true }],
    ["PENDING_VERSION", { isQueued: true }],
    ["DEQUEUED", { isExecuting: true }],
    ["EXECUTING", { isExecuting: true }],
    ["WAITING", { isWaiting: true }],
    ["COMPLETED", { isCompleted: true, isSuccess: true, isFailed: false }],
    ["CANCELED", { isCompleted: true, isCancelled: true, isFailed: false, isSuccess: false }],
    ["FAILED", { isCompleted: true, isFailed: true }],
    ["CRASHED", { isCompleted: true, isFailed: true }],
    ["SYSTEM_FAILURE", { isCompleted: true, isFailed: true }],
    ["EXPIRED", { isCompleted: true, isFailed: true }],
    ["TIMED_OUT", { isCompleted: true, isFailed: true }],
  ])("%s", (status, expected) => {
    expect(flags(status)).toMatchObject(expected);
  });
});

describe("waitpoint token status", () => {
  it("is WAITING, COMPLETED or TIMED_OUT", () => {
    expect(toWaitpointTokenStatus({ status: "PENDING", outputIsError: false })).toBe("WAITING");
    expect(toWaitpointTokenStatus({ status: "COMPLETED", outputIsError: false })).toBe("COMPLETED");
    expect(toWaitpointTokenStatus({ status: "COMPLETED", outputIsError: true })).toBe("TIMED_OUT");
  });
});
