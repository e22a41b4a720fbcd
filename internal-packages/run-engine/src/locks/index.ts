export * from "./types.js";
export * from "./errors.js";
export { RunLocker } from "./runLocker.js";
