export * from "./shapeProtocol.js";
export * from "./runShape.js";
