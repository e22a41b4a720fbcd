export { task, isTask, type Task, type TaskOptions, type RetryOptions, type QueueOptions, type RunParams, type TaskSource } from "./task.js";
export { schedules, toScheduledTaskPayload, type ScheduledTaskPayload, type ScheduledTaskOptions, type ScheduleCron } from "./schedules.js";
export { startWorker, defaultVersion, type StartWorkerOptions, type RunningWorker } from "./worker.js";
export { wait, metadata, logger } from "./runtime.js";
export { configure, type ClientConfig } from "./config.js";
export type { TaskContext, TaskRunResult, BatchRunResult, WaitTokenResult } from "./context.js";
export type { TriggerOptions, TriggerResult, BatchItem, BatchTriggerResult, CreateTokenOptions, WaitToken } from "./publicApi.js";
export type { WaitDuration } from "./duration.js";
export type { LogLevel, LogSink } from "./log.js";
export {
  AbortTaskRunError,
  WaitpointTimeoutError,
  TaskRunError,
  ApiError,
  StaleSnapshotError,
  AttemptInterruptedError,
  serializeError,
} from "./errors.js";
export { BatchNotSealedError } from "./publicApi.js";
export { WORKER_SDK_VERSION } from "./version.js";
