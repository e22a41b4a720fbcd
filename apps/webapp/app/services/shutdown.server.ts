import type { Server } from "node:http";
import type { BackgroundWorkerRegistry } from "~/services/backgroundWorkers.server";
import type { Logger } from "~/services/logger.server";

export type ShutdownDeps = {
  server?: Server;
  backgroundWorkers: Pick<BackgroundWorkerRegistry, "stopAll">;
  /** Closes pools and connections (runtime.close). */
  close: () => Promise<void>;
  logger: Logger;
  deadlineMs: number;
};

/**
 * Orderly stop: refuse new connections, stop every background worker with the deadline while
 * in-flight requests finish, cut connections still open at the deadline, then close the pools.
 */
export async function gracefulShutdown(deps: ShutdownDeps): Promise<void> {
  const { server, logger, deadlineMs } = deps;
  const serverClosed = server ? closeServer(server, deadlineMs) : Promise.resolve();
  const reports = await deps.backgroundWorkers.stopAll(deadlineMs);
  const late = reports.filter((r) => !r.stopped).map((r) => r.name);
  if (late.length) logger.warn("background workers did not stop in time", { workers: late });
  await serverClosed;
  await deps.close();
  logger.info("shutdown complete", { workers: reports.length });
}

function closeServer(server: Server, deadlineMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    const timer = setTimeout(() => server.closeAllConnections(), deadlineMs);
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/**
 * SIGTERM/SIGINT run `shutdown` once and exit 0 (1 if it threw). A second signal while stopping exits
 * at once with 1. Returns a function that removes the handlers.
 */
export function installShutdownSignals(
  shutdown: () => Promise<void>,
  options: { logger: Logger; exit?: (code: number) => void; signals?: NodeJS.Signals[] }
): () => void {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const signals = options.signals ?? ["SIGTERM", "SIGINT"];
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      options.logger.warn("second signal while shutting down; exiting now", { signal });
      exit(1);
      return;
    }
    stopping = true;
    options.logger.info("shutting down", { signal });
    shutdown().then(
      () => exit(0),
      (error) => {
        options.logger.error("shutdown failed", { error });
        exit(1);
      }
    );
  };
  for (const signal of signals) process.on(signal, handler);
  return () => {
    for (const signal of signals) process.off(signal, handler);
  };
}
