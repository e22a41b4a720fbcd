import { logger, task } from "@runplane/worker";

/** The smallest task: takes a name, returns a greeting. */
export const helloWorld = task({
  id: "hello-world",
  run: async (payload: { name?: string }, { ctx }) => {
    const name = payload?.name ?? "world";
    logger.info("saying hello", { name });
    return { message: `Hello, ${name}!`, runId: ctx.run.id, attempt: ctx.attempt.number };
  },
});
