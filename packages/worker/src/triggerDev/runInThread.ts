import { Worker } from "node:worker_threads";
import type { WorkerCompletedWaitpoint } from "../protocol.js";
import type { FromThread, ThreadInput, ToThread, TriggerCompletedWaitpoint, TriggerCompletion } from "./messages.js";

const THREAD_ENTRY = new URL("./thread.mjs", import.meta.url);

/**
 * Runs one trigger.dev attempt in a fresh worker thread. The thread's waits are served by
 * `waitForServerBlock` (the run's slot-releasing long-poll); an abort (cancel, maxDuration, shutdown)
 * terminates the thread.
 */
export function runInThread(
  input: ThreadInput,
  signal: AbortSignal,
  waitForServerBlock: (what: string) => Promise<WorkerCompletedWaitpoint[]>
): Promise<TriggerCompletion> {
  return new Promise((resolve, reject) => {
    const thread = new Worker(THREAD_ENTRY, { workerData: input, env: threadEnv(input), stdout: false, stderr: false });
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener("abort", onAbort);
      fn();
      void thread.terminate();
    };
    const onAbort = () => finish(() => reject(signal.reason ?? new Error("attempt aborted")));
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });

    thread.on("message", (message: FromThread) => {
      switch (message.type) {
        case "wait":
          waitForServerBlock(message.what).then(
            (waitpoints) => reply({ type: "resumed", seq: message.seq, waitpoints: waitpoints.map(toTriggerWaitpoint) }),
            (error: unknown) => reply({ type: "resumeFailed", seq: message.seq, message: error instanceof Error ? error.message : String(error) })
          );
          return;
        case "completed":
          finish(() => resolve(message.completion));
          return;
        case "failed":
          finish(() => reject(new Error(`the trigger.dev task runtime failed: ${message.message}`)));
          return;
      }
    });
    thread.on("error", (error) => finish(() => reject(error)));
    thread.on("exit", (code) => finish(() => reject(new Error(`the task thread exited (${code}) before completing`))));

    function reply(message: ToThread) {
      if (!settled) thread.postMessage(message);
    }
  });
}

function toTriggerWaitpoint(wp: WorkerCompletedWaitpoint): TriggerCompletedWaitpoint {
  return {
    id: wp.id,
    friendlyId: wp.friendlyId,
    type: wp.type,
    completedAt: new Date(),
    ...(wp.index !== undefined && wp.index !== null ? { index: wp.index } : {}),
    ...(wp.completedByTaskRunId ? { completedByTaskRun: { id: wp.completedByTaskRunId, friendlyId: wp.completedByTaskRunId } } : {}),
    ...(wp.completedByBatchId ? { completedByBatch: { id: wp.completedByBatchId, friendlyId: wp.completedByBatchId } } : {}),
    ...(wp.output !== undefined && wp.output !== null ? { output: wp.output } : {}),
    outputType: wp.outputType,
    outputIsError: wp.outputIsError,
  };
}

/** The task process's environment, as trigger.dev sets it: the API for in-task calls, where telemetry goes. */
function threadEnv(input: ThreadInput): NodeJS.ProcessEnv {
  return {
    ...process.env,
    TRIGGER_API_URL: input.apiUrl,
    TRIGGER_SECRET_KEY: input.secretKey,
    TRIGGER_OTEL_EXPORTER_OTLP_ENDPOINT: input.otlpEndpoint,
    OTEL_EXPORTER_OTLP_ENDPOINT: input.otlpEndpoint,
    // the receiver takes the environment's key (the OTLP exporters read this variable)
    OTEL_EXPORTER_OTLP_HEADERS: `Authorization=Bearer ${input.secretKey}`,
  };
}
