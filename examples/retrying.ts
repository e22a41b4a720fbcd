import { AbortTaskRunError, logger, task } from "@runplane/worker";

/**
 * Fails its first two attempts, then succeeds: the server schedules each retry from the policy below
 * (1 s, then 2 s, capped at 10 s, with jitter). A payload of { fatal: true } throws AbortTaskRunError,
 * which is never retried.
 */
export const retrying = task({
  id: "retrying",
  retry: { maxAttempts: 4, factor: 2, minTimeoutInMs: 1_000, maxTimeoutInMs: 10_000, randomize: true },
  run: async (payload: { fatal?: boolean; succeedOnAttempt?: number }, { ctx }) => {
    if (payload?.fatal) throw new AbortTaskRunError("this input can never succeed");
    const succeedOn = payload?.succeedOnAttempt ?? 3;
    if (ctx.attempt.number < succeedOn) {
      logger.warn("failing on purpose", { attempt: ctx.attempt.number });
      throw new Error(`attempt ${ctx.attempt.number} failed on purpose`);
    }
    return { succeededOnAttempt: ctx.attempt.number };
  },
});
