export * from "./cuid.js";
export * from "./ksuid.js";
export * from "./friendlyId.js";
export * from "./residency.js";
