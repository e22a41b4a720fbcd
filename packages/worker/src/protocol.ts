/**
 * The worker protocol schemas live in @runplane/core (shared with the server routes).
 * Until `export * from "./workerProtocol.js"` is added to core's schemas index, this is the one place
 * the worker reaches them; afterwards the line below becomes `export * from "@runplane/core/schemas";`.
 */
export * from "../../core/src/schemas/workerProtocol.js";
