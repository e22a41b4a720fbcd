export * from "./ids/index.js";
export * from "./errors/index.js";
