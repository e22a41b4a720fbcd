import { format } from "node:util";
import { currentRuntime } from "./context.js";
import type { LogLevel, LogTap } from "./log.js";
import type { OtlpExporter } from "./otlpExporter.js";

/** The task logger's tap: each `logger.*` line of an attempt (its child fields name the run) is exported. */
export function taskLogTap(exporter: OtlpExporter): LogTap {
  return (level, message, fields, context) => {
    const runId = context.runId;
    const attempt = context.attempt;
    if (typeof runId !== "string" || typeof attempt !== "number") return;
    exporter.log({ runId, attemptNumber: attempt, taskId: String(context.taskId ?? "") }, level, message, fields);
  };
}

const CONSOLE_LEVELS: Array<[keyof Console & ("log" | "info" | "warn" | "error" | "debug"), LogLevel]> = [
  ["log", "info"],
  ["info", "info"],
  ["warn", "warn"],
  ["error", "error"],
  ["debug", "debug"],
];
const INSTALLED = Symbol.for("runplane.worker.consoleExport");

/**
 * Wraps console.* once per process: the line still goes where it went (stdout/stderr), and when it is
 * written inside a task attempt it is also exported to that attempt's run.
 */
export function installConsoleExport(): void {
  const holder = console as Console & { [INSTALLED]?: boolean };
  if (holder[INSTALLED]) return;
  holder[INSTALLED] = true;
  for (const [method, level] of CONSOLE_LEVELS) {
    const original = console[method].bind(console);
    console[method] = (...args: unknown[]) => {
      original(...args);
      const telemetry = currentRuntime()?.telemetry;
      if (telemetry) telemetry.exporter.log(telemetry.owner, level, format(...args), { "log.source": "console" });
    };
  }
}
