/**
 * An in-memory stand-in for the server side of the worker protocol, for the worker's own unit tests only.
 * It follows apps/webapp/docs/worker-protocol.md closely enough to drive the worker through dequeue,
 * attempts, retries, waits, child runs, batches, tokens, metadata and cancellation. It is not the
 * engine: no Postgres, no Redis, no fairness.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { applyOperations } from "../../src/metadataOps.js";
import type { MetadataOperation } from "../../src/publicApi.js";
import {
  WorkerCompleteAttemptRequest,
  WorkerDequeueRequest,
  WorkerRegisterRequest,
  WorkerWaitDurationRequest,
  WorkerWaitTokenRequest,
  type WorkerCompletedWaitpointInput,
  type WorkerTaskDefinition,
  type WorkerTaskRunError,
} from "../../src/protocol.js";

type SnapshotStatus = "QUEUED" | "PENDING_EXECUTING" | "EXECUTING" | "EXECUTING_WITH_WAITPOINTS" | "PENDING_CANCEL" | "FINISHED";
type Snapshot = { id: string; status: SnapshotStatus; attempt: number; completedWaitpoints: WorkerCompletedWaitpointInput[] };

export type FakeRun = {
  id: string;
  taskId: string;
  payload: string;
  payloadType: string;
  status: "QUEUED" | "EXECUTING" | "COMPLETED" | "FAILED" | "CANCELED";
  attemptNumber: number;
  maxAttempts: number;
  tags: string[];
  metadata: Record<string, unknown>;
  output?: string;
  outputType?: string;
  error?: WorkerTaskRunError;
  parentRunId?: string;
  isTest: boolean;
  maxDuration?: number;
  snapshots: Snapshot[];
  blockers: Set<string>;
  pendingCompleted: WorkerCompletedWaitpointInput[];
  completions: unknown[];
  heartbeats: number;
};

type FakeWaitpoint = {
  id: string;
  type: "RUN" | "DATETIME" | "MANUAL" | "BATCH";
  status: "PENDING" | "COMPLETED";
  output?: string;
  outputType: string;
  outputIsError: boolean;
  completedByTaskRunId?: string;
  blocked: Map<string, number | undefined>; // runId → batch index
};

type BatchWaitpoint = FakeWaitpoint & { members: string[]; parentRunId?: string; resume?: boolean };

export type CallRecord = { method: string; path: string; body: unknown; at: number };

const NON_RETRYABLE = new Set(["TASK_RUN_CANCELLED", "MAX_DURATION_EXCEEDED", "COULD_NOT_FIND_TASK", "TASK_INPUT_ERROR", "TASK_OUTPUT_ERROR"]);

export class FakeServer {
  readonly secretKey = "tr_dev_fake_key";
  readonly calls: CallRecord[] = [];
  readonly runs = new Map<string, FakeRun>();
  readonly waitpoints = new Map<string, FakeWaitpoint>();
  registrations: WorkerRegisterRequest[] = [];
  /** Failures answered with this many ms of retry delay become RETRY_IMMEDIATELY instead of RETRY_QUEUED. */
  retryImmediatelyDelayMs: number | undefined;
  /** When set, every request to a matching path answers this status first (once per entry). */
  failNext: Array<{ match: RegExp; status: number }> = [];

  private batches = new Map<string, BatchWaitpoint>();
  private server: Server;
  private queue: string[] = [];
  private seq = 0;
  private listeners = new Set<() => void>();
  private timers = new Set<NodeJS.Timeout>();
  url = "";

  constructor() {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error) => {
        this.send(res, 500, { error: String((error as Error)?.stack ?? error) });
      });
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.notify();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // --- test helpers ------------------------------------------------------------------------------

  private nextId(prefix: string): string {
    return `${prefix}_${(++this.seq).toString().padStart(6, "0")}`;
  }

  createRun(taskId: string, payload: string, payloadType = "application/json", extra: Partial<FakeRun> = {}): FakeRun {
    const run: FakeRun = {
      id: this.nextId("run"),
      taskId,
      payload,
      payloadType,
      status: "QUEUED",
      attemptNumber: 0,
      maxAttempts: this.retryFor(taskId)?.maxAttempts ?? 1,
      tags: [],
      metadata: {},
      isTest: false,
      snapshots: [],
      blockers: new Set(),
      pendingCompleted: [],
      completions: [],
      heartbeats: 0,
      ...extra,
    };
    this.runs.set(run.id, run);
    this.pushSnapshot(run, "QUEUED");
    this.queue.push(run.id);
    this.notify();
    return run;
  }

  /** Like a public cancel: an executing run goes to PENDING_CANCEL, a queued one is finished. */
  cancelRun(runId: string): void {
    const run = this.runs.get(runId)!;
    const latest = this.latest(run);
    if (latest.status === "QUEUED") {
      this.queue = this.queue.filter((id) => id !== runId);
      run.status = "CANCELED";
      this.pushSnapshot(run, "FINISHED");
    } else if (latest.status !== "FINISHED") {
      this.pushSnapshot(run, "PENDING_CANCEL");
    }
    this.notify();
  }

  completeToken(tokenId: string, data: unknown): void {
    this.completeWaitpoint(tokenId, JSON.stringify(data), "application/json", false);
  }

  waitFor(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const started = Date.now();
      const check = () => {
        if (predicate()) return resolve();
        if (Date.now() - started > timeoutMs) return reject(new Error("FakeServer.waitFor timed out"));
        setTimeout(check, 10);
      };
      check();
    });
  }

  callsTo(pattern: RegExp): CallRecord[] {
    return this.calls.filter((c) => pattern.test(`${c.method} ${c.path}`));
  }

  // --- internals ---------------------------------------------------------------------------------

  private retryFor(taskId: string): WorkerTaskDefinition["retry"] | undefined {
    for (const reg of [...this.registrations].reverse()) {
      const t = reg.tasks.find((task) => task.id === taskId);
      if (t) return t.retry;
    }
    return undefined;
  }

  private latest(run: FakeRun): Snapshot {
    return run.snapshots[run.snapshots.length - 1]!;
  }

  private pushSnapshot(run: FakeRun, status: SnapshotStatus, completedWaitpoints: WorkerCompletedWaitpointInput[] = []): Snapshot {
    const snap = { id: this.nextId("snapshot"), status, attempt: run.attemptNumber, completedWaitpoints };
    run.snapshots.push(snap);
    return snap;
  }

  private notify(): void {
    const listeners = [...this.listeners];
    this.listeners.clear();
    for (const l of listeners) l();
  }

  /** Resolves on the next state change, after ms, or when the client goes away. */
  private changed(ms: number, req: IncomingMessage): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.timers.delete(timer);
        this.listeners.delete(done);
        req.socket.off("close", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.timers.add(timer);
      this.listeners.add(done);
      req.socket.once("close", done);
    });
  }

  private send(res: ServerResponse, status: number, body: unknown): void {
    if (res.headersSent || res.destroyed) return;
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  }

  private createWaitpoint(type: FakeWaitpoint["type"], id = this.nextId("waitpoint")): FakeWaitpoint {
    const wp: FakeWaitpoint = { id, type, status: "PENDING", outputType: "application/json", outputIsError: false, blocked: new Map() };
    this.waitpoints.set(id, wp);
    return wp;
  }

  private block(run: FakeRun, wp: FakeWaitpoint, index?: number): void {
    run.blockers.add(wp.id);
    wp.blocked.set(run.id, index);
    const latest = this.latest(run);
    if (latest.status === "EXECUTING") this.pushSnapshot(run, "EXECUTING_WITH_WAITPOINTS");
  }

  private completeWaitpoint(id: string, output: string | undefined, outputType: string, isError: boolean): void {
    const wp = this.waitpoints.get(id);
    if (!wp || wp.status === "COMPLETED") return;
    wp.status = "COMPLETED";
    wp.output = output;
    wp.outputType = outputType;
    wp.outputIsError = isError;
    for (const [runId, index] of wp.blocked) {
      const run = this.runs.get(runId)!;
      run.blockers.delete(wp.id);
      const entry: WorkerCompletedWaitpointInput = {
        id: wp.id,
        friendlyId: wp.id,
        type: wp.type,
        outputType: wp.outputType,
        outputIsError: wp.outputIsError,
      };
      if (wp.output !== undefined) entry.output = wp.output;
      if (index !== undefined) entry.index = index;
      if (wp.completedByTaskRunId) entry.completedByTaskRunId = wp.completedByTaskRunId;
      run.pendingCompleted.push(entry);
      if (run.blockers.size === 0 && this.latest(run).status === "EXECUTING_WITH_WAITPOINTS") {
        this.pushSnapshot(run, "EXECUTING", run.pendingCompleted);
        run.pendingCompleted = [];
      }
    }
    wp.blocked.clear();
    this.notify();
  }

  private finishRun(run: FakeRun, status: FakeRun["status"]): void {
    run.status = status;
    this.pushSnapshot(run, "FINISHED");
    const wp = [...this.waitpoints.values()].find((w) => w.type === "RUN" && w.completedByTaskRunId === run.id);
    if (wp) {
      if (status === "COMPLETED") this.completeWaitpoint(wp.id, run.output, run.outputType ?? "application/json", false);
      else this.completeWaitpoint(wp.id, JSON.stringify(run.error), "application/json", true);
    }
    for (const batchWp of this.waitpoints.values()) {
      if (batchWp.type !== "BATCH" || batchWp.status === "COMPLETED") continue;
      const members = (batchWp as BatchWaitpoint).members ?? [];
      if (members.length > 0 && members.every((id) => this.latest(this.runs.get(id)!).status === "FINISHED")) {
        this.completeWaitpoint(batchWp.id, undefined, "application/json", false);
      }
    }
    this.notify();
  }

  private checkSnapshot(res: ServerResponse, run: FakeRun | undefined, snapshotId: string): run is FakeRun {
    if (!run) {
      this.send(res, 404, { error: "Run not found" });
      return false;
    }
    const latest = this.latest(run);
    if (latest.id !== snapshotId) {
      this.send(res, 409, { error: "stale snapshot", latestSnapshotId: latest.id });
      return false;
    }
    return true;
  }

  private execution(run: FakeRun) {
    return {
      run: {
        id: run.id,
        payload: run.payload,
        payloadType: run.payloadType,
        tags: run.tags,
        metadata: run.metadata,
        isTest: run.isTest,
        createdAt: new Date().toISOString(),
        startedAt: new Date().toISOString(),
        idempotencyKey: null,
        maxAttempts: run.maxAttempts,
        maxDuration: run.maxDuration ?? null,
        concurrencyKey: null,
      },
      attempt: { number: run.attemptNumber, startedAt: new Date().toISOString() },
      task: { id: run.taskId, filePath: "", exportName: null },
      queue: { id: "queue_1", name: `task/${run.taskId}` },
      environment: { id: "env_1", slug: "dev", type: "DEVELOPMENT" },
      organization: { id: "org_1", slug: "org" },
      project: { id: "proj_1", ref: "proj_ref", slug: "project" },
      batch: null,
    };
  }

  private async readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.url);
    const path = url.pathname;
    const method = req.method ?? "GET";
    const text = method === "GET" ? "" : await this.readBody(req);
    const isNdjson = (req.headers["content-type"] ?? "").includes("ndjson");
    let body: unknown = undefined;
    if (text && !isNdjson) body = JSON.parse(text);
    this.calls.push({ method, path, body: isNdjson ? text : body, at: Date.now() });

    if (req.headers.authorization !== `Bearer ${this.secretKey}`) return this.send(res, 401, { error: "Invalid API key" });
    const failure = this.failNext.findIndex((f) => f.match.test(`${method} ${path}`));
    if (failure >= 0) {
      const [f] = this.failNext.splice(failure, 1);
      return this.send(res, f!.status, { error: "injected failure" });
    }

    let m: RegExpExecArray | null;
    if (method === "POST" && path === "/api/v1/worker/register") {
      const parsed = WorkerRegisterRequest.safeParse(body);
      if (!parsed.success) return this.send(res, 400, { error: parsed.error.message });
      this.registrations.push(parsed.data);
      return this.send(res, 200, { worker: { id: "w1", friendlyId: "worker_1", version: parsed.data.version } });
    }
    if (method === "POST" && path === "/api/v1/worker/dequeue") {
      const parsed = WorkerDequeueRequest.safeParse(body);
      if (!parsed.success) return this.send(res, 400, { error: parsed.error.message });
      const deadline = Date.now() + parsed.data.waitMs;
      while (this.queue.length === 0 && Date.now() < deadline && !req.socket.destroyed) {
        await this.changed(deadline - Date.now(), req);
      }
      if (req.socket.destroyed) return; // the worker gave up: hand nothing out
      const runs = this.queue.splice(0, parsed.data.maxRuns).map((id) => {
        const run = this.runs.get(id)!;
        const snap = this.pushSnapshot(run, "PENDING_EXECUTING");
        return { runId: run.id, snapshotId: snap.id, attemptNumber: run.attemptNumber + 1, taskIdentifier: run.taskId };
      });
      return this.send(res, 200, { runs });
    }
    if ((m = /^\/api\/v1\/worker\/runs\/([^/]+)\/snapshots\/([^/]+)\/(.+)$/.exec(path))) {
      const run = this.runs.get(decodeURIComponent(m[1]!));
      const snapshotId = decodeURIComponent(m[2]!);
      const action = m[3]!;
      if (method === "GET" && action === "continue") return this.handleContinue(req, res, run, snapshotId, Number(url.searchParams.get("waitMs") ?? 0));
      if (!this.checkSnapshot(res, run, snapshotId)) return;
      switch (action) {
        case "attempts/start": {
          run.attemptNumber++;
          run.status = "EXECUTING";
          const snap = this.pushSnapshot(run, "EXECUTING");
          return this.send(res, 200, { snapshotId: snap.id, execution: this.execution(run) });
        }
        case "heartbeat":
          run.heartbeats++;
          return this.send(res, 200, { ok: true });
        case "attempts/complete":
          return this.handleComplete(res, run, body);
        case "wait/duration": {
          const parsed = WorkerWaitDurationRequest.parse(body);
          const wp = this.createWaitpoint("DATETIME");
          this.block(run, wp);
          const snapshotId2 = this.latest(run).id;
          const timer = setTimeout(() => this.completeWaitpoint(wp.id, undefined, "application/json", false), Math.max(0, parsed.date.getTime() - Date.now()));
          this.timers.add(timer);
          return this.send(res, 200, { snapshotId: snapshotId2, waitpointId: wp.id });
        }
        case "wait/token": {
          const parsed = WorkerWaitTokenRequest.parse(body);
          const wp = this.waitpoints.get(parsed.waitpointId);
          if (!wp) return this.send(res, 404, { error: "Waitpoint not found" });
          if (wp.status === "COMPLETED") {
            // Nothing to wait for: the run continues at once with the completed waitpoint.
            this.pushSnapshot(run, "EXECUTING_WITH_WAITPOINTS");
            wp.status = "PENDING";
            wp.blocked.set(run.id, undefined);
            run.blockers.add(wp.id);
            const { output, outputType, outputIsError } = wp;
            this.completeWaitpoint(wp.id, output, outputType, outputIsError);
            const snap = run.snapshots[run.snapshots.length - 2]!;
            return this.send(res, 200, { snapshotId: snap.id, waitpointId: wp.id });
          }
          this.block(run, wp);
          if (parsed.timeout) {
            const timer = setTimeout(
              () =>
                this.completeWaitpoint(
                  wp.id,
                  JSON.stringify({ code: "TRIGGER_WAITPOINT_TIMEOUT", message: `Waitpoint timed out at ${new Date().toISOString()}` }),
                  "application/json",
                  true,
                ),
              Math.max(0, parsed.timeout.getTime() - Date.now()),
            );
            this.timers.add(timer);
          }
          return this.send(res, 200, { snapshotId: this.latest(run).id, waitpointId: wp.id });
        }
      }
      return this.send(res, 404, { error: "Not found" });
    }
    if (method === "POST" && (m = /^\/api\/v1\/tasks\/([^/]+)\/trigger$/.exec(path))) {
      const b = body as { payload?: string; options?: Record<string, unknown> };
      const opts = b.options ?? {};
      const child = this.createRun(decodeURIComponent(m[1]!), b.payload ?? "", (opts.payloadType as string) ?? "application/json", {
        parentRunId: opts.parentRunId as string | undefined,
        tags: Array.isArray(opts.tags) ? (opts.tags as string[]) : opts.tags ? [opts.tags as string] : [],
        isTest: opts.test === true,
      });
      if (opts.parentRunId && opts.resumeParentOnCompletion) {
        const parent = this.runs.get(opts.parentRunId as string);
        if (!parent) return this.send(res, 404, { error: "Parent run not found" });
        const wp = this.createWaitpoint("RUN");
        wp.completedByTaskRunId = child.id;
        this.block(parent, wp);
      }
      return this.send(res, 200, { id: child.id });
    }
    if (method === "POST" && path === "/api/v3/batches") {
      const b = body as { runCount: number; parentRunId?: string; resumeParentOnCompletion?: boolean };
      const id = this.nextId("batch");
      const batchWp: BatchWaitpoint = Object.assign(this.createWaitpoint("BATCH"), {
        members: [],
        parentRunId: b.parentRunId,
        resume: b.resumeParentOnCompletion,
      });
      this.batches.set(id, batchWp);
      if (b.parentRunId && b.resumeParentOnCompletion) this.block(this.runs.get(b.parentRunId)!, batchWp);
      return this.send(res, 202, { id, runCount: b.runCount, isCached: false });
    }
    if (method === "POST" && (m = /^\/api\/v3\/batches\/([^/]+)\/items$/.exec(path))) {
      const batchWp = this.batches.get(m[1]!);
      if (!batchWp) return this.send(res, 404, { error: "Batch not found" });
      const lines = text.split("\n").filter(Boolean).map((l) => JSON.parse(l) as { index: number; task: string; payload?: string; options?: Record<string, unknown> });
      for (const line of lines) {
        const child = this.createRun(line.task, line.payload ?? "", (line.options?.payloadType as string) ?? "application/json", {
          parentRunId: batchWp.parentRunId,
        });
        batchWp.members.push(child.id);
        if (batchWp.parentRunId && batchWp.resume) {
          const wp = this.createWaitpoint("RUN");
          wp.completedByTaskRunId = child.id;
          const parent = this.runs.get(batchWp.parentRunId)!;
          parent.blockers.add(wp.id);
          wp.blocked.set(parent.id, line.index);
        }
      }
      return this.send(res, 200, { id: m[1], itemsAccepted: lines.length, itemsDeduplicated: 0, sealed: true });
    }
    if (method === "POST" && path === "/api/v1/waitpoints/tokens") {
      const wp = this.createWaitpoint("MANUAL");
      return this.send(res, 200, { id: wp.id, isCached: false, url: `${this.url}/api/v1/waitpoints/tokens/${wp.id}/callback/x` });
    }
    if (method === "POST" && (m = /^\/api\/v1\/waitpoints\/tokens\/([^/]+)\/complete$/.exec(path))) {
      const wp = this.waitpoints.get(decodeURIComponent(m[1]!));
      if (!wp) return this.send(res, 404, { error: "Waitpoint not found" });
      this.completeToken(wp.id, (body as { data?: unknown }).data);
      return this.send(res, 200, { success: true });
    }
    if (method === "PUT" && (m = /^\/api\/v1\/runs\/([^/]+)\/metadata$/.exec(path))) {
      const run = this.runs.get(decodeURIComponent(m[1]!));
      if (!run) return this.send(res, 404, { error: "Run not found" });
      const b = body as { metadata?: Record<string, unknown>; operations?: MetadataOperation[] };
      if (b.operations) run.metadata = applyOperations(run.metadata, b.operations);
      else if (b.metadata) run.metadata = b.metadata;
      return this.send(res, 200, { metadata: run.metadata });
    }
    return this.send(res, 404, { error: `No route for ${method} ${path}` });
  }

  private handleComplete(res: ServerResponse, run: FakeRun, body: unknown): void {
    const { completion } = WorkerCompleteAttemptRequest.parse(body);
    run.completions.push(completion);
    const latest = this.latest(run);
    if (completion.ok) {
      run.output = completion.output;
      run.outputType = completion.outputType;
      this.finishRun(run, "COMPLETED");
      return this.send(res, 200, { result: { attemptStatus: "RUN_FINISHED", snapshotId: this.latest(run).id } });
    }
    run.error = completion.error;
    if (completion.error.code === "TASK_RUN_CANCELLED" || latest.status === "PENDING_CANCEL") {
      this.finishRun(run, "CANCELED");
      return this.send(res, 200, { result: { attemptStatus: "RUN_FINISHED", snapshotId: this.latest(run).id } });
    }
    const retryable =
      !completion.skipRetrying &&
      !(completion.error.type === "INTERNAL_ERROR" && NON_RETRYABLE.has(completion.error.code ?? "")) &&
      run.attemptNumber < run.maxAttempts;
    if (!retryable) {
      this.finishRun(run, "FAILED");
      return this.send(res, 200, { result: { attemptStatus: "RUN_FINISHED", snapshotId: this.latest(run).id } });
    }
    run.blockers.clear();
    if (this.retryImmediatelyDelayMs !== undefined) {
      const snap = this.pushSnapshot(run, "EXECUTING");
      this.notify();
      return this.send(res, 200, {
        result: { attemptStatus: "RETRY_IMMEDIATELY", snapshotId: snap.id, retryAt: new Date(Date.now() + this.retryImmediatelyDelayMs).toISOString() },
      });
    }
    run.status = "QUEUED";
    const snap = this.pushSnapshot(run, "QUEUED");
    this.queue.push(run.id);
    this.notify();
    return this.send(res, 200, { result: { attemptStatus: "RETRY_QUEUED", snapshotId: snap.id } });
  }

  /** `continue`: reports what happened since the given snapshot (see the protocol doc). */
  private async handleContinue(req: IncomingMessage, res: ServerResponse, run: FakeRun | undefined, snapshotId: string, waitMs: number): Promise<void> {
    if (!run) return this.send(res, 404, { error: "Run not found" });
    const since = run.snapshots.findIndex((s) => s.id === snapshotId);
    if (since < 0) return this.send(res, 404, { error: "Snapshot not found" });
    const deadline = Date.now() + waitMs;
    for (;;) {
      const from = run.snapshots[since]!;
      const latest = this.latest(run);
      if (
        latest.status === "PENDING_CANCEL" ||
        latest.status === "FINISHED" ||
        latest.status === "QUEUED" ||
        latest.status === "PENDING_EXECUTING" ||
        latest.attempt !== from.attempt
      ) {
        return this.send(res, 200, { status: "cancelled", snapshotId: latest.id });
      }
      if (latest.status === "EXECUTING" && latest.id !== from.id) {
        const completedWaitpoints = run.snapshots.slice(since + 1).flatMap((s) => s.completedWaitpoints);
        return this.send(res, 200, { status: "resumed", snapshotId: latest.id, completedWaitpoints });
      }
      if (Date.now() >= deadline || req.socket.destroyed) break;
      await this.changed(deadline - Date.now(), req);
    }
    return this.send(res, 200, { status: "waiting" });
  }
}
