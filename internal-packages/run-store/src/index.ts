export { RunStore, type RunLookup, type ListRunsQuery, type ListBatchesQuery, type ListWaitpointsQuery, type KeysetPosition } from "./runStore.js";
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
  CLEANUP_TABLES,
  type CleanupTable,
  type CleanupCounts,
  type EnvironmentCleanupOptions,
  type EnvironmentCleanupResult,
} from "./cleanup.js";
