export * from "./backgroundLoop.js";
