import { apiLoader } from "~/services/apiRoute.server";
import { longPollSignal } from "~/v3/workerProtocol/longPolls.server";

/** How often a `presence` event keeps the dev CLI's stream (and any proxy in between) alive. */
const PRESENCE_INTERVAL_MS = 15_000;

/**
 * GET /engine/v1/dev/presence: the dev CLI's server-sent event stream. It carries a `presence` event
 * now and then; the stream ends when the CLI goes away or the server shuts down.
 */
export const loader = apiLoader({}, async ({ request, auth }) => {
  const signal = longPollSignal(request);
  const encoder = new TextEncoder();
  let timer: ReturnType<typeof setInterval> | undefined;
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = () => {
        const data = JSON.stringify({ environmentId: auth.environment.id, time: new Date().toISOString() });
        controller.enqueue(encoder.encode(`event: presence\ndata: ${data}\n\n`));
      };
      const close = () => {
        clearInterval(timer);
        try {
          controller.close();
        } catch {
          // already closed by the client
        }
      };
      send();
      timer = setInterval(send, PRESENCE_INTERVAL_MS);
      if (signal.aborted) close();
      else signal.addEventListener("abort", close, { once: true });
    },
    cancel() {
      clearInterval(timer);
    },
  });
  return new Response(stream, {
    headers: { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" },
  });
});
