export * from "./types.js";
export { JobQueue } from "./jobQueue.js";
export { JobWorker } from "./jobWorker.js";
