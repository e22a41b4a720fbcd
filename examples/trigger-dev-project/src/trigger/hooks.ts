import { locals, metadata, task, wait } from "@trigger.dev/sdk";

/** Records each lifecycle hook as it is called, in run metadata (`hooks`). */
function record(name: string) {
  metadata.append("hooks", name);
}

const requestId = locals.create<string>("requestId");

/** Every lifecycle hook of a successful run with a wait; middleware hands run() a local. */
export const hooked = task({
  id: "hooked",
  middleware: async ({ next }) => {
    record("middleware");
    locals.set(requestId, "req-42");
    await next();
  },
  onStart: async () => record("onStart"),
  onWait: async ({ wait }) => record(`onWait:${wait.type}`),
  onResume: async ({ wait }) => record(`onResume:${wait.type}`),
  onSuccess: async () => record("onSuccess"),
  onFailure: async () => record("onFailure"),
  onComplete: async ({ result }) => record(`onComplete:${result.ok ? "ok" : "error"}`),
  cleanup: async () => record("cleanup"),
  run: async () => {
    record("run");
    await wait.for({ seconds: 6 });
    return { local: locals.get(requestId) ?? null };
  },
});

/** catchError turns a retryable failure into a final one; onFailure and onComplete see it. */
export const hookedFailure = task({
  id: "hooked-failure",
  retry: { maxAttempts: 3, minTimeoutInMs: 100, maxTimeoutInMs: 200, factor: 1 },
  catchError: async () => {
    record("catchError");
    return { skipRetrying: true };
  },
  onFailure: async () => record("onFailure"),
  onComplete: async ({ result }) => record(`onComplete:${result.ok ? "ok" : "error"}`),
  cleanup: async () => record("cleanup"),
  run: async () => {
    record("run");
    throw new Error("hooked-failure failed on purpose");
  },
});
