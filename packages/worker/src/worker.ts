import { z } from "zod";
import { ValidationError } from "@runplane/core/errors";
import { ConcurrencyGate } from "./gate.js";
import { HttpClient, isAbortError, sleep } from "./http.js";
import { Logger, stdoutSink, type LogLevel, type LogSink } from "./log.js";
import { OtlpExporter } from "./otlpExporter.js";
import { installConsoleExport, taskLogTap } from "./telemetry.js";
import { WORKER_PROTOCOL_LIMITS } from "./protocol.js";
import { PublicApi } from "./publicApi.js";
import { RunExecution, type RunExecutionDeps } from "./runExecution.js";
import { isTask, toTaskDefinition, type Task, type TaskSource } from "./task.js";
import { WORKER_SDK_VERSION } from "./version.js";
import { WorkerApi } from "./workerApi.js";

export type StartWorkerOptions = {
  apiUrl: string;
  /** The environment's secret key (tr_dev_…, tr_prod_…). */
  secretKey: string;
  /** Task objects, or tasks with the file they came from (the CLI passes those). */
  tasks: Array<Task | TaskSource>;
  /** Runs executing at once (waiting runs do not count). Default 10. */
  concurrency?: number;
  /** Worker version to register; default a timestamp like 20261123.104512. */
  version?: string;
  /** waitMs of each dequeue long-poll. Default 20000. */
  pollWaitMs?: number;
  /** Default 10000. */
  heartbeatIntervalMs?: number;
  /** How long stop() waits for in-flight runs before failing them (retryably). Default 30000. */
  shutdownTimeoutMs?: number;
  /** wait.for/until shorter than this sleep in-process; longer ones block the run on the server. Default 5000. */
  localWaitThresholdMs?: number;
  /** Default 1000. */
  metadataFlushIntervalMs?: number;
  logLevel?: LogLevel;
  /** Where log lines go (worker and task logs). Default stdout. */
  logSink?: LogSink;
  /** Export task logs (logger.*, console.*) and attempt spans to the server's OTLP receiver. Default true. */
  exportTelemetry?: boolean;
};

export type RunningWorker = {
  readonly id: string;
  readonly friendlyId: string;
  readonly version: string;
  /** Runs on this worker right now (executing or waiting). */
  readonly inFlight: number;
  /** Stops dequeuing, waits for in-flight runs up to shutdownTimeoutMs, then fails the rest retryably. */
  stop(): Promise<void>;
};

const OptionsSchema = z.object({
  apiUrl: z.string().url("apiUrl must be a URL"),
  secretKey: z.string().min(1, "secretKey is required"),
  tasks: z.array(z.unknown()).min(1, "at least one task is required"),
  concurrency: z.number().int().min(1).max(1000).default(10),
  version: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9._+-]+$/, "version may only contain letters, digits and . _ + -")
    .optional(),
  pollWaitMs: z.number().int().min(0).max(WORKER_PROTOCOL_LIMITS.maxWaitMs).default(20_000),
  heartbeatIntervalMs: z.number().int().min(50).max(300_000).default(10_000),
  shutdownTimeoutMs: z.number().int().min(0).max(3_600_000).default(30_000),
  localWaitThresholdMs: z.number().int().min(0).max(3_600_000).default(5_000),
  metadataFlushIntervalMs: z.number().int().min(0).max(60_000).default(1_000),
  logLevel: z.enum(["debug", "info", "warn", "error"]).default("info"),
  logSink: z.function().optional(),
  exportTelemetry: z.boolean().default(true),
});

/** Time left for the failure completions after the shutdown deadline. */
const FORCE_STOP_GRACE_MS = 10_000;
const MIN_EMPTY_POLL_INTERVAL_MS = 1_000;

export function defaultVersion(now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}.${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}`;
}

/** One TaskSource per task id; the same task object exported twice counts once. */
export function collectTaskSources(tasks: Array<Task | TaskSource>): Map<string, TaskSource> {
  const byId = new Map<string, TaskSource>();
  for (const entry of tasks) {
    const source: TaskSource | undefined = isTask(entry)
      ? { task: entry }
      : entry && typeof entry === "object" && isTask((entry as TaskSource).task)
        ? (entry as TaskSource)
        : undefined;
    if (!source) throw new ValidationError("tasks must contain task() objects");
    const existing = byId.get(source.task.id);
    if (existing && existing.task !== source.task) {
      throw new ValidationError(
        `Two different tasks use the id "${source.task.id}"` +
          (existing.filePath || source.filePath ? ` (${existing.filePath ?? "?"} and ${source.filePath ?? "?"})` : ""),
      );
    }
    if (!existing) byId.set(source.task.id, source);
  }
  return byId;
}

/** Registers the tasks as a worker version, then dequeues and executes runs until stop(). */
export async function startWorker(options: StartWorkerOptions): Promise<RunningWorker> {
  const parsed = OptionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new ValidationError(
      `Invalid worker options: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
    );
  }
  const settings = parsed.data;
  const tasks = collectTaskSources(options.tasks);
  const version = settings.version ?? defaultVersion();
  const sink = options.logSink ?? stdoutSink;
  const logger = new Logger({ level: settings.logLevel, sink }, { component: "worker", version });
  const exporter = settings.exportTelemetry
    ? new OtlpExporter({ apiUrl: settings.apiUrl, secretKey: settings.secretKey, onError: (error) => logger.debug("telemetry export failed", { error }) })
    : undefined;
  if (exporter) installConsoleExport();
  const taskLogger = new Logger({ level: settings.logLevel, sink, tap: exporter ? taskLogTap(exporter) : undefined });

  const http = new HttpClient({ apiUrl: settings.apiUrl, secretKey: settings.secretKey });
  const workerApi = new WorkerApi(http);
  const publicApi = new PublicApi(http.withHeaders({ "x-trigger-worker": "true", "x-trigger-engine-version": "V2" }));

  const { worker } = await workerApi.register({
    version,
    sdkVersion: WORKER_SDK_VERSION,
    tasks: [...tasks.values()].map(toTaskDefinition),
  });
  logger.info("worker registered", { workerId: worker.friendlyId, tasks: [...tasks.keys()], concurrency: settings.concurrency });

  const gate = new ConcurrencyGate(settings.concurrency);
  const executions = new Set<RunExecution>();
  const dequeueAbort = new AbortController();
  const forceStop = new AbortController();
  const deps: RunExecutionDeps = {
    workerApi,
    publicApi,
    tasks,
    gate,
    logger,
    taskLogger,
    worker: { id: worker.friendlyId, version: worker.version },
    settings: {
      heartbeatIntervalMs: settings.heartbeatIntervalMs,
      continueWaitMs: settings.pollWaitMs,
      localWaitThresholdMs: settings.localWaitThresholdMs,
      metadataFlushIntervalMs: settings.metadataFlushIntervalMs,
      finalFlushTimeoutMs: 5_000,
    },
    forceStopSignal: forceStop.signal,
    exporter,
  };

  const dequeueLoop = (async () => {
    let failures = 0;
    while (!dequeueAbort.signal.aborted) {
      try {
        await gate.waitForAvailable(dequeueAbort.signal);
      } catch {
        break;
      }
      const maxRuns = Math.min(WORKER_PROTOCOL_LIMITS.maxRunsPerDequeue, Math.max(1, gate.available));
      const started = Date.now();
      let runs;
      try {
        ({ runs } = await workerApi.dequeue({ version, maxRuns, waitMs: settings.pollWaitMs }, dequeueAbort.signal));
      } catch (error) {
        if (dequeueAbort.signal.aborted) break;
        failures++;
        logger.warn("dequeue failed; backing off", { error, failures });
        await sleep(Math.min(30_000, 500 * 2 ** Math.min(failures, 6)), dequeueAbort.signal).catch(() => {});
        continue;
      }
      failures = 0;
      if (runs.length > maxRuns) logger.warn("server returned more runs than asked for", { maxRuns, got: runs.length });
      for (const run of runs) {
        gate.forceAcquire();
        logger.debug("run dequeued", { runId: run.runId, taskId: run.taskIdentifier, attemptNumber: run.attemptNumber });
        const execution = new RunExecution(deps, run);
        executions.add(execution);
        void execution.done.finally(() => executions.delete(execution));
      }
      const elapsed = Date.now() - started;
      if (runs.length === 0 && elapsed < MIN_EMPTY_POLL_INTERVAL_MS) {
        await sleep(MIN_EMPTY_POLL_INTERVAL_MS - elapsed, dequeueAbort.signal).catch(() => {});
      }
    }
  })();

  async function waitForRuns(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const all = Promise.all([...executions].map((e) => e.done)).then(() => true);
    const deadline = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
    const finished = await Promise.race([all, deadline]);
    clearTimeout(timer);
    return finished;
  }

  let stopping: Promise<void> | null = null;
  async function stop(): Promise<void> {
    logger.info("worker stopping", { inFlight: executions.size, shutdownTimeoutMs: settings.shutdownTimeoutMs });
    // 1. No new work: abort the dequeue long-poll and let the loop end.
    dequeueAbort.abort();
    await dequeueLoop.catch((error) => {
      if (!isAbortError(error)) logger.error("dequeue loop failed", { error });
    });
    // 2. Let in-flight runs finish, up to the deadline.
    const drained = await waitForRuns(settings.shutdownTimeoutMs);
    if (!drained) {
      // 3. Fail what is left with a retryable error so the server requeues it.
      logger.warn("shutdown deadline passed; failing in-flight attempts so they are retried", { inFlight: executions.size });
      forceStop.abort();
      for (const execution of executions) execution.interrupt("shutdown");
      const failed = await waitForRuns(FORCE_STOP_GRACE_MS);
      if (!failed) logger.error("some attempts could not be reported before exit", { inFlight: executions.size });
    }
    await exporter?.close();
    logger.info("worker stopped");
  }

  return {
    id: worker.id,
    friendlyId: worker.friendlyId,
    version: worker.version,
    get inFlight() {
      return executions.size;
    },
    stop() {
      stopping ??= stop();
      return stopping;
    },
  };
}
