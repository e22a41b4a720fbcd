import { buildServer } from "./serverProcess";

/** Builds the production server once per test run; test servers (test/support/testServer.ts) run the build. */
export default function setup(): void {
  buildServer();
}
