import { logger, metadata, tags, task } from "@trigger.dev/sdk";

/** metadata.set, tags.add and logger.info from inside a task. */
export const observed = task({
  id: "observed",
  run: async () => {
    metadata.set("progress", 100).set("stage", "done");
    await tags.add(["observed", "from-task"]);
    logger.info("hello from the observed task", { answer: 42 });
    await metadata.flush();
    // Where the task runtime sends its spans and logs (the attempt start's env vars).
    return { otlpEndpoint: process.env.TRIGGER_OTEL_EXPORTER_OTLP_ENDPOINT ?? null };
  },
});

/** Runs until cancelled. */
export const longRunning = task({
  id: "long-running",
  run: async () => {
    logger.info("long-running started");
    await new Promise((resolve) => setTimeout(resolve, 120_000));
    return { finished: true };
  },
});
