export { RunStore, type RunLookup, type ListRunsQuery } from "./runStore.js";
export { RunRouter, type RunStoreDatabases } from "./routing.js";
export type { RunTablesClient, RunTablesTx } from "./types.js";
export {
  TaskRunStatus,
  TaskRunExecutionStatus,
  WaitpointType,
  WaitpointStatus,
  BatchTaskRunStatus,
  type TaskRun,
  type TaskRunExecutionSnapshot,
  type Waitpoint,
  type TaskRunWaitpoint,
  type BatchTaskRun,
  type BatchTaskRunError,
  type RunOpsPrisma as RunTablesPrisma,
} from "@internal/run-ops-database";
export { createRunStoreFromUrls } from "./factory.js";
export * as engineStore from "./engineWrites.js";
export type {
  SnapshotWrite,
  RunCreateData,
  RunUpdateData,
  WaitpointCreateData,
  WaitpointCompletion,
  EdgeWrite,
  EdgeWithWaitpoint,
  BatchCreateData,
} from "./engineWrites.js";
export {
  deleteEnvironmentRunData,
  unfinishedRunsOf,
  type UnfinishedRun,
  CLEANUP_TABLES,
  type CleanupTable,
  type CleanupCounts,
  type EnvironmentCleanupOptions,
  type EnvironmentCleanupResult,
} from "./cleanup.js";
export {
  UNBLOCK_ROUTES,
  decideWaitpointHome,
  decideUnblock,
  assertInheritedResidency,
  hintFromWaitpoint,
  locateWaitpoint,
  type UnblockRoute,
  type WaitpointOwnerHint,
  type WaitpointHome,
  type WaitpointHomeReason,
  type UnblockDecision,
  type CrossSeamPin,
  type LocatedWaitpoint,
} from "./crossSeam.js";
export { RunOpsDataUnavailableError, CrossSeamGuardError } from "./errors.js";
export { consoleRunStoreLog, type RunStoreLog } from "./routing.js";
export { probeRunOpsResidue, type RunOpsResidue } from "./residue.js";
export * as apiQueries from "./apiQueries.js";
export type { ListPosition, RunPageQuery, TokenPageQuery, BatchPageQuery } from "./apiQueries.js";
export * as packetStore from "./packets.js";
export type { StoredPacket } from "./packets.js";
