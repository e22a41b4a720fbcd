import { execFileSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** Builds the production server once per test run; test servers (test/support/testServer.ts) run the build. */
export default function setup(): void {
  const appDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
  execFileSync(path.join(appDir, "node_modules/.bin/remix"), ["vite:build"], { cwd: appDir, stdio: "pipe", timeout: 180_000 });
}
