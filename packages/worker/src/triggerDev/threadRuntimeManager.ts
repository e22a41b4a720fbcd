import type { MessagePort } from "node:worker_threads";
import { lifecycleHooks } from "@trigger.dev/core/v3";
import type { FromThread, ToThread, TriggerCompletedWaitpoint } from "./messages.js";

type RunResult = { ok: true; id: string; output?: string; outputType: string } | { ok: false; id: string; error: unknown };

/**
 * The trigger.dev RuntimeManager inside the worker thread. The SDK has already registered the wait
 * with the server (trigger with resumeParentOnCompletion, wait/duration, token wait) when it calls
 * one of these; each asks the run (in the main thread) to give its slot back and long-poll until
 * the server resumes it, then resolves with the completed waitpoints, calling onWait/onResume hooks.
 */
export class ThreadRuntimeManager {
  private seq = 0;
  private pending = new Map<number, { resolve: (w: TriggerCompletedWaitpoint[]) => void; reject: (e: Error) => void }>();

  constructor(private readonly port: MessagePort) {
    port.on("message", (message: ToThread) => {
      const waiter = this.pending.get(message.seq);
      if (!waiter) return;
      this.pending.delete(message.seq);
      if (message.type === "resumed") waiter.resolve(message.waitpoints);
      else waiter.reject(new Error(message.message));
    });
  }

  disable(): void {}

  private resume(what: string): Promise<TriggerCompletedWaitpoint[]> {
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      this.pending.set(seq, { resolve, reject });
      const message: FromThread = { type: "wait", seq, what };
      this.port.postMessage(message);
    });
  }

  async waitForTask(params: { id: string }) {
    await lifecycleHooks.callOnWaitHookListeners({ type: "task", runId: params.id });
    const waitpoints = await this.resume("triggerAndWait");
    const wp = waitpoints.find((w) => w.completedByTaskRun?.friendlyId === params.id) ?? waitpoints.find((w) => w.type === "RUN");
    await lifecycleHooks.callOnResumeHookListeners({ type: "task", runId: params.id });
    return toRunResult(wp, params.id) as never;
  }

  async waitForBatch(params: { id: string; runCount: number }) {
    if (!params.runCount) return { id: params.id, items: [] };
    await lifecycleHooks.callOnWaitHookListeners({ type: "batch", batchId: params.id, runCount: params.runCount });
    const waitpoints = await this.resume("batchTriggerAndWait");
    const items = waitpoints
      .filter((w) => w.type === "RUN")
      .sort((a, b) => (a.index ?? 0) - (b.index ?? 0))
      .map((w) => toRunResult(w, w.completedByTaskRun?.friendlyId ?? ""));
    await lifecycleHooks.callOnResumeHookListeners({ type: "batch", batchId: params.id, runCount: params.runCount });
    return { id: params.id, items } as never;
  }

  async waitForWaitpoint(params: { waitpointFriendlyId: string; finishDate?: Date }) {
    const wait = params.finishDate ? ({ type: "duration", date: params.finishDate } as const) : ({ type: "token", token: params.waitpointFriendlyId } as const);
    await lifecycleHooks.callOnWaitHookListeners(wait);
    const waitpoints = await this.resume(params.finishDate ? "wait.for" : "wait.forToken");
    const wp = waitpoints.find((w) => w.friendlyId === params.waitpointFriendlyId) ?? waitpoints[0];
    await lifecycleHooks.callOnResumeHookListeners(wait);
    return { ok: wp ? !wp.outputIsError : true, output: wp?.output, outputType: wp?.outputType };
  }
}

function toRunResult(wp: TriggerCompletedWaitpoint | undefined, id: string): RunResult {
  if (!wp) return { ok: false, id, error: { type: "INTERNAL_ERROR", code: "TASK_RUN_CRASHED", message: "No result for this run" } };
  if (wp.outputIsError) {
    let error: unknown = { type: "STRING_ERROR", raw: wp.output ?? "" };
    try {
      error = JSON.parse(wp.output ?? "");
    } catch {
      // a plain-text error stays a STRING_ERROR
    }
    return { ok: false, id, error };
  }
  return { ok: true, id, output: wp.output, outputType: wp.outputType ?? "application/json" };
}
