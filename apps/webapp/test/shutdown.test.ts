import http from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it, vi } from "vitest";
import { BackgroundWorkerRegistry } from "~/services/backgroundWorkers.server";
import { createLogger } from "~/services/logger.server";
import { gracefulShutdown, installShutdownSignals } from "~/services/shutdown.server";

const logger = createLogger({ level: "error", sink: () => {} });

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path, agent: false }, (res) => {
        let body = "";
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on("error", reject);
  });
}

describe("gracefulShutdown", () => {
  it("stops accepting, lets in-flight requests finish, stops workers, then closes pools", async () => {
    const order: string[] = [];
    let slowArrived!: () => void;
    const slowRequest = new Promise<void>((r) => (slowArrived = r));
    const server = http.createServer((req, res) => {
      if (req.url === "/slow") slowArrived();
      setTimeout(() => res.end("done"), req.url === "/slow" ? 200 : 0);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;

    const registry = new BackgroundWorkerRegistry(logger);
    registry.register({
      name: "loop",
      start() {},
      stop: async () => {
        await new Promise((r) => setTimeout(r, 50));
        order.push("worker stopped");
        return true;
      },
    });
    await registry.startAll();

    const inFlight = get(port, "/slow");
    await slowRequest;
    const shutdown = gracefulShutdown({
      server,
      backgroundWorkers: registry,
      close: async () => void order.push("pools closed"),
      logger,
      deadlineMs: 5_000,
    });
    await expect.poll(() => server.listening, { timeout: 5_000, interval: 5 }).toBe(false);
    await expect(get(port, "/")).rejects.toThrow(/ECONNREFUSED/);

    expect(await inFlight).toEqual({ status: 200, body: "done" });
    await shutdown;
    expect(order).toEqual(["worker stopped", "pools closed"]);
    expect(server.listening).toBe(false);
    expect(registry.list()).toEqual([{ name: "loop", state: "stopped" }]);
  });

  it("cuts connections still open at the deadline", async () => {
    let requestArrived!: () => void;
    const arrived = new Promise<void>((r) => (requestArrived = r));
    const server = http.createServer(() => {
      requestArrived(); // and never answers
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    const hanging = get(port, "/").catch((error: Error) => error);
    await arrived;
    const started = Date.now();
    const closed = vi.fn(async () => {});
    await gracefulShutdown({ server, backgroundWorkers: new BackgroundWorkerRegistry(logger), close: closed, logger, deadlineMs: 100 });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(closed).toHaveBeenCalledOnce();
    expect(await hanging).toBeInstanceOf(Error);
  });
});

describe("installShutdownSignals", () => {
  it("runs shutdown once and exits 0; a second signal exits 1 at once", async () => {
    const exit = vi.fn();
    let release!: () => void;
    const shutdown = vi.fn(() => new Promise<void>((r) => (release = r)));
    const remove = installShutdownSignals(shutdown, { logger, exit, signals: ["SIGUSR2"] });
    try {
      process.emit("SIGUSR2", "SIGUSR2");
      expect(shutdown).toHaveBeenCalledOnce();
      process.emit("SIGUSR2", "SIGUSR2");
      expect(exit).toHaveBeenCalledWith(1);
      release();
      await new Promise((r) => setImmediate(r));
      expect(exit).toHaveBeenLastCalledWith(0);
      expect(shutdown).toHaveBeenCalledOnce();
    } finally {
      remove();
    }
  });

  it("exits 1 when shutdown fails", async () => {
    const exit = vi.fn();
    const remove = installShutdownSignals(() => Promise.reject(new Error("pool stuck")), { logger, exit, signals: ["SIGUSR2"] });
    try {
      process.emit("SIGUSR2", "SIGUSR2");
      await new Promise((r) => setImmediate(r));
      expect(exit).toHaveBeenCalledWith(1);
    } finally {
      remove();
    }
  });
});
