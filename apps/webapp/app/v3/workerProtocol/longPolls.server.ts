import { singleton } from "~/utils/singleton.server";

/**
 * Held worker requests (dequeue, continue) end early when the client goes away or the server shuts
 * down: each long-poll waits on `longPollSignal(request)`, and shutdown aborts them all (registered as
 * the "worker-long-polls" background worker), so a stopping server answers them at once.
 */
class LongPolls {
  private shutdown = new AbortController();

  signalFor(request: Request): AbortSignal {
    return AbortSignal.any([request.signal, this.shutdown.signal]);
  }

  start(): void {
    if (this.shutdown.signal.aborted) this.shutdown = new AbortController();
  }

  stop(): boolean {
    this.shutdown.abort(new Error("server shutting down"));
    return true;
  }
}

export const longPolls = singleton("workerLongPolls", () => new LongPolls());

/** The signal a long-poll of this request waits on. */
export function longPollSignal(request: Request): AbortSignal {
  return longPolls.signalFor(request);
}
