import { task } from "@trigger.dev/sdk";

/** Fails its first two attempts, then succeeds; the retry delays are short so tests stay quick. */
export const flaky = task({
  id: "flaky",
  retry: { maxAttempts: 3, factor: 1, minTimeoutInMs: 200, maxTimeoutInMs: 500, randomize: false },
  run: async (_payload: unknown, { ctx }) => {
    if (ctx.attempt.number < 3) throw new Error(`attempt ${ctx.attempt.number} failed on purpose`);
    return { succeededOnAttempt: ctx.attempt.number };
  },
});
