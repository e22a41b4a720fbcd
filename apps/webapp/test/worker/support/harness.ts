import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createControlPlaneClient, type ControlPlaneClient } from "@internal/database";
import { PrismaControlPlaneResolver, type AuthenticatedEnvironment } from "@internal/database/resolver";
import { RunEngine, type TriggerInput } from "@internal/run-engine";
import { createRunStoreFromUrls, engineStore, type RunStore, type TaskRun } from "@internal/run-store";
import { TEST_REDIS_URL } from "@internal/testcontainers";
import { fromFriendlyId } from "@runplane/core";
import { startWorker, type RunningWorker, type StartWorkerOptions } from "@runplane/worker";
import type { TestServer } from "../../support/testServer";

/**
 * End-to-end harness for the worker protocol: a real test server, real workers (`startWorker` in this
 * process) and a RunEngine in this process on the server's databases and Redis prefix. The test engine
 * only triggers, cancels and reads runs (it shares the queue with the server; its background jobs stay
 * off, the server runs them).
 *
 * Public routes a task calls (trigger, wait tokens) come from the server when it has them. Until then a
 * small front proxy answers exactly those with the test engine and forwards everything else to the
 * server, so the worker protocol itself is always the real one.
 */
export type Harness = {
  server: TestServer;
  engine: RunEngine;
  store: RunStore;
  environment: AuthenticatedEnvironment;
  /** The URL workers use (the server, or the front proxy in front of it). */
  apiUrl: string;
  /** Whether the server itself serves the public trigger route (else the front proxy does). */
  serverHasPublicApi: boolean;
  trigger(taskIdentifier: string, payload: unknown, options?: Partial<TriggerInput>): Promise<string>;
  run(runId: string): Promise<TaskRun>;
  /** Polls until the run reaches one of `statuses` (throws with its last status after `timeoutMs`). */
  waitForStatus(runId: string, statuses: TaskRun["status"][], timeoutMs?: number): Promise<TaskRun>;
  /** A worker of this harness (default: a fresh version, 500 ms heartbeats, warn-level logs collected). */
  /** Polls until the run's latest snapshot has `executionStatus`. */
  waitForExecutionStatus(runId: string, executionStatus: string, timeoutMs?: number): Promise<void>;
  startWorker(options: Omit<StartWorkerOptions, "apiUrl" | "secretKey">): Promise<RunningWorker>;
  /** Stops every worker this harness started. */
  stopWorkers(): Promise<void>;
  /** Worker log lines at warn and above, for assertions and failure output. */
  workerLogs: string[];
  close(): Promise<void>;
};

export const FINAL_STATUSES: TaskRun["status"][] = [
  "COMPLETED_SUCCESSFULLY",
  "COMPLETED_WITH_ERRORS",
  "CANCELED",
  "EXPIRED",
  "TIMED_OUT",
  "SYSTEM_FAILURE",
  "CRASHED",
  "INTERRUPTED",
];

export async function createHarness(server: TestServer, split: boolean): Promise<Harness> {
  const { store, close: closeStore } = createRunStoreFromUrls({
    databaseUrl: server.databaseUrl,
    runOpsDatabaseUrl: server.runOpsDatabaseUrl,
    splitEnabled: split,
    poolSize: 4,
  });
  const prisma: ControlPlaneClient = createControlPlaneClient({ connectionString: server.databaseUrl, max: 2 });
  const resolver = new PrismaControlPlaneResolver({ client: prisma });
  const environment = await resolver.resolveEnvByApiKey(server.devSecretKey);
  if (!environment) throw new Error("the test server's dev environment was not bootstrapped");
  const engine = new RunEngine({
    runStore: store,
    resolver,
    redis: TEST_REDIS_URL,
    mintKind: split ? "NEW" : "LEGACY",
    keyPrefix: `${server.redis.keyPrefix}engine:`,
  });

  const probe = await fetch(`${server.baseUrl}/api/v1/tasks/probe/trigger`, { method: "POST", body: "{}" });
  const serverHasPublicApi = probe.status !== 404;
  const proxy = serverHasPublicApi ? null : await startFrontProxy(server.baseUrl, engine, environment);
  const apiUrl = proxy ? proxy.url : server.baseUrl;

  const workers: RunningWorker[] = [];
  let versions = 0;
  const workerLogs: string[] = [];

  async function run(runId: string): Promise<TaskRun> {
    const found = await engineStore.findRunById(store, fromFriendlyId(runId, "run"));
    if (!found) throw new Error(`run ${runId} not found`);
    return found;
  }

  return {
    server,
    engine,
    store,
    environment,
    apiUrl,
    serverHasPublicApi,
    workerLogs,
    async trigger(taskIdentifier, payload, options = {}) {
      const { run: created } = await engine.trigger({
        taskIdentifier,
        environment,
        payload: JSON.stringify(payload),
        payloadType: "application/json",
        ...options,
      });
      return created.friendlyId;
    },
    run,
    async waitForStatus(runId, statuses, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const current = await run(runId);
        if (statuses.includes(current.status)) return current;
        if (Date.now() > deadline) {
          throw new Error(
            `run ${runId} is ${current.status}, not ${statuses.join("|")}, after ${timeoutMs} ms\n` +
              `worker logs:\n${workerLogs.join("\n")}\nserver stderr:\n${server.output().stderr.slice(-4000)}`
          );
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async waitForExecutionStatus(runId, executionStatus, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const latest = await engine.getLatestSnapshot(runId);
        if (latest?.executionStatus === executionStatus) return;
        if (Date.now() > deadline) {
          throw new Error(`run ${runId} is ${latest?.executionStatus}, not ${executionStatus}, after ${timeoutMs} ms\nworker logs:\n${workerLogs.join("\n")}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async startWorker(options) {
      const worker = await startWorker({
        apiUrl,
        secretKey: server.devSecretKey,
        version: `test.${++versions}.${Date.now()}`,
        heartbeatIntervalMs: 500,
        logLevel: "warn",
        logSink: (line) => void workerLogs.push(line),
        ...options,
      });
      workers.push(worker);
      return worker;
    },
    async stopWorkers() {
      await Promise.allSettled(workers.splice(0).map((w) => w.stop()));
    },
    async close() {
      await Promise.allSettled(workers.splice(0).map((w) => w.stop()));
      await proxy?.close();
      await engine.close();
      await Promise.allSettled([closeStore(), prisma.$disconnect()]);
    },
  };
}

/** Starts a harness on the test server, runs `fn`, and always closes the harness. */
export async function withHarness(server: TestServer, split: boolean, fn: (h: Harness) => Promise<void>): Promise<void> {
  const harness = await createHarness(server, split);
  try {
    await fn(harness);
  } finally {
    await harness.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Front proxy: the public trigger and wait-token routes, until the server has them

type Proxy = { url: string; close(): Promise<void> };

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

async function startFrontProxy(target: string, engine: RunEngine, environment: AuthenticatedEnvironment): Promise<Proxy> {
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://proxy");
    const body = await readBody(req);
    const trigger = /^\/api\/v1\/tasks\/([^/]+)\/trigger$/.exec(url.pathname);
    const complete = /^\/api\/v1\/waitpoints\/tokens\/([^/]+)\/complete$/.exec(url.pathname);
    if (req.method === "POST" && (trigger || complete || url.pathname === "/api/v1/waitpoints/tokens")) {
      if (req.headers.authorization !== `Bearer ${environment.apiKey}`) return sendJson(res, 401, { error: "Invalid API key" });
      const json = body ? JSON.parse(body) : {};
      if (trigger) {
        const options = json.options ?? {};
        const { run, isCached } = await engine.trigger({
          taskIdentifier: decodeURIComponent(trigger[1]!),
          environment,
          payload: json.payload ?? "",
          payloadType: options.payloadType ?? "application/json",
          parentRunId: options.parentRunId,
          resumeParentOnCompletion: options.resumeParentOnCompletion,
          isTest: options.test,
          concurrencyKey: options.concurrencyKey !== undefined ? String(options.concurrencyKey) : undefined,
          maxAttempts: options.maxAttempts,
          tags: options.tags === undefined ? undefined : [options.tags].flat(),
        });
        return sendJson(res, 200, { id: run.friendlyId, isCached });
      }
      if (complete) {
        await engine.completeWaitpoint(decodeURIComponent(complete[1]!), {
          output: JSON.stringify(json.data ?? null),
          outputType: "application/json",
        });
        return sendJson(res, 200, { success: true });
      }
      const { waitpoint, isCached } = await engine.createManualWaitpoint({ environment, timeout: json.timeout, idempotencyKey: json.idempotencyKey });
      return sendJson(res, 200, { id: waitpoint.friendlyId, isCached, url: `${target}/api/v1/waitpoints/tokens/${waitpoint.friendlyId}/callback/x` });
    }
    // Everything else (the worker protocol) goes to the real server; a client that leaves aborts the call.
    const abort = new AbortController();
    res.on("close", () => abort.abort());
    const headers = Object.fromEntries(
      Object.entries(req.headers).filter(([k, v]) => typeof v === "string" && !["host", "content-length", "connection"].includes(k))
    ) as Record<string, string>;
    const upstream = await fetch(target + (req.url ?? "/"), {
      method: req.method,
      headers,
      body: req.method === "GET" || req.method === "HEAD" ? undefined : body,
      signal: abort.signal,
    });
    res.writeHead(upstream.status, { "content-type": upstream.headers.get("content-type") ?? "application/json" });
    res.end(Buffer.from(await upstream.arrayBuffer()));
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) return res.destroy();
      sendJson(res, (error as { status?: number }).status ?? 500, { error: (error as Error).message });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Largest number of [start, end) intervals open at one instant. */
export function maxOverlap(intervals: Array<{ start: number; end: number }>): number {
  const events = intervals.flatMap((i) => [
    { at: i.start, delta: 1 },
    { at: i.end, delta: -1 },
  ]);
  events.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let open = 0;
  let max = 0;
  for (const e of events) {
    open += e.delta;
    max = Math.max(max, open);
  }
  return max;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** SuperJSON (what the worker writes) or JSON, decoded to the value. */
export function decodeOutput(output: string | null, outputType: string): unknown {
  if (output === null) return undefined;
  const parsed = JSON.parse(output) as unknown;
  return outputType.startsWith("application/super+json") ? (parsed as { json: unknown }).json : parsed;
}
