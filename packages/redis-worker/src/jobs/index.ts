export * from "./types.js";
export { luaCommand, type LuaCommand } from "./luaCommand.js";
export { JobQueue } from "./jobQueue.js";
export { JobWorker } from "./jobWorker.js";
