export * from "./ids/index.js";
export * from "./errors/index.js";
export * from "./lifecycle/index.js";
