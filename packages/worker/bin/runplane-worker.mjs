#!/usr/bin/env node
// Registers tsx so both this package's TypeScript sources and the user's .ts task files load.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli.ts");
process.exitCode = await main(process.argv.slice(2));
// Timers (heartbeats, long-polls) are cleaned up by stop(); exit explicitly in case a task left handles open.
process.exit(process.exitCode);
