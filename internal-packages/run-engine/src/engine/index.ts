export * from "./runEngine.js";
export * from "./types.js";
export * from "./errors.js";
export * from "./statuses.js";
export * from "./durations.js";
export { registerWorker, RegisterWorkerBodySchema, type RegisterWorkerBody, type RegisterWorkerDeps } from "./registerWorker.js";
export { engineJobCatalog, type EngineJobCatalog } from "./core.js";
export type { EnsureRunQueuedResult } from "./queueRepair.js";
export { replayTriggerInput } from "./replayAndReschedule.js";
