export * from "./types.js";
export { RunQueue } from "./runQueue.js";
