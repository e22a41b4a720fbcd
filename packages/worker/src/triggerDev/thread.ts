import { parentPort, workerData } from "node:worker_threads";
import { pathToFileURL } from "node:url";
import {
  apiClientManager,
  clock,
  heartbeats,
  lifecycleHooks,
  localsAPI,
  logger,
  resourceCatalog,
  runMetadata,
  runtime,
  runTimelineMetrics,
  taskContext,
  TaskRunContext,
  timeout,
  traceContext,
  usage,
  waitUntil,
} from "@trigger.dev/core/v3";
import { TriggerTracer } from "@trigger.dev/core/v3/tracer";
import {
  ConsoleInterceptor,
  DevUsageManager,
  DurableClock,
  OtelTaskLogger,
  StandardHeartbeatsManager,
  StandardLifecycleHooksManager,
  StandardLocalsManager,
  StandardMetadataManager,
  StandardResourceCatalog,
  StandardRunTimelineMetricsManager,
  StandardTraceContextManager,
  StandardWaitUntilManager,
  TaskExecutor,
  TracingSDK,
  UsageTimeoutManager,
} from "@trigger.dev/core/v3/workers";
import type { FromThread, ThreadInput, TriggerCompletion } from "./messages.js";
import { ThreadRuntimeManager } from "./threadRuntimeManager.js";

/**
 * One attempt of a trigger.dev task, in its own worker thread: the trigger.dev task runtime keeps a
 * run's context, metadata, locals and hooks in per-thread globals. Loads the task files, runs the
 * task through the SDK's own executor (hooks, middleware, catchError, schemaTask parsing), flushes
 * metadata and posts the completion.
 */
const input = workerData as ThreadInput;
const port = parentPort!;
const post = (message: FromThread) => port.postMessage(message);

async function main(): Promise<void> {
  apiClientManager.setGlobalAPIClientConfiguration({ baseURL: input.apiUrl, accessToken: input.secretKey });
  localsAPI.setGlobalLocalsManager(new StandardLocalsManager());
  lifecycleHooks.setGlobalLifecycleHooksManager(new StandardLifecycleHooksManager());
  runTimelineMetrics.setGlobalManager(new StandardRunTimelineMetricsManager());
  const usageManager = new DevUsageManager();
  usage.setGlobalUsageManager(usageManager);
  timeout.setGlobalManager(new UsageTimeoutManager(usageManager));
  resourceCatalog.setGlobalResourceCatalog(new StandardResourceCatalog());
  traceContext.setGlobalManager(new StandardTraceContextManager());
  clock.setGlobalClock(new DurableClock());
  const metadataManager = new StandardMetadataManager(apiClientManager.clientOrThrow());
  runMetadata.setGlobalManager(metadataManager);
  waitUntil.setGlobalManager(new StandardWaitUntilManager(60_000));
  heartbeats.setGlobalManager(new StandardHeartbeatsManager(30_000));
  runtime.setGlobalRuntimeManager(new ThreadRuntimeManager(port) as never);

  for (const file of input.files) {
    resourceCatalog.setCurrentFileContext(file.filePath, file.absolutePath);
    await import(pathToFileURL(file.absolutePath).href);
    resourceCatalog.clearCurrentFileContext();
  }

  const execution = input.execution as { task: { id: string }; run: { id: string; rootTaskRunId?: string } };
  const task = resourceCatalog.getTask(execution.task.id);
  if (!task) {
    post({ type: "completed", completion: { ok: false, error: { type: "INTERNAL_ERROR", code: "COULD_NOT_FIND_TASK", message: `Task "${execution.task.id}" is not exported by the loaded files` } } });
    return;
  }

  const tracingSDK = new TracingSDK({ url: input.otlpEndpoint, forceFlushTimeoutMillis: 5_000, diagLogLevel: "none" } as never);
  const tracer = new TriggerTracer({ tracer: tracingSDK.getTracer("runplane-worker"), logger: tracingSDK.getLogger("runplane-worker") });
  const consoleInterceptor = new ConsoleInterceptor(tracingSDK.getLogger("runplane-worker"), true, false);
  logger.setGlobalTaskLogger(new OtelTaskLogger({ logger: tracingSDK.getLogger("runplane-worker"), tracer, level: "info" }));

  const ctx = TaskRunContext.parse(input.execution);
  taskContext.setGlobalTaskContext({ ctx, worker: { id: "runplane-worker", version: String((input.execution as { run: { version?: string } }).run.version ?? "") } as never, isWarmStart: false });
  metadataManager.runId = execution.run.id;
  metadataManager.runIdIsRoot = typeof execution.run.rootTaskRunId === "undefined";
  metadataManager.startPeriodicFlush(1_000);

  const executor = new TaskExecutor(task, { tracer, tracingSDK, consoleInterceptor, retries: undefined, isWarmStart: false, executionCount: 1 } as never);
  const { result } = await executor.execute(input.execution as never, ctx, new AbortController().signal);
  // Hooks after run() (onSuccess, onComplete, cleanup) may have changed metadata: send it before completing.
  await metadataManager.flush().catch(() => undefined);
  metadataManager.stopAndReturnLastFlush().catch(() => undefined);

  await tracingSDK.flush().catch(() => undefined);
  post({ type: "completed", completion: result as TriggerCompletion });
}

main().catch((error: unknown) => post({ type: "failed", message: error instanceof Error ? (error.stack ?? error.message) : String(error) }));
