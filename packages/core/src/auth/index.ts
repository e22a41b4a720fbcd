export * from "./publicToken.js";
