export * from "./runQueue/index.js";
export * from "./locks/index.js";
export * from "./engine/index.js";
export * from "./eventBus/index.js";
export * from "./retry/index.js";
export {
  WaitpointSystem,
  waitpointTimeoutError,
  type CreateManualWaitpointInput,
  type CompleteWaitpointInput,
} from "./waitpoints/waitpointSystem.js";
export { BatchSystem, MAX_BATCH_RUN_COUNT, type CreateBatchInput, type CreateBatchResult } from "./batches/batchSystem.js";
