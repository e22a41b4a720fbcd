export * from "./runStatus.js";
export * from "./api/index.js";
export * from "./workerProtocol.js";
