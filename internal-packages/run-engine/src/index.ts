export * from "./runQueue/index.js";
export * from "./locks/index.js";
