import { task } from "@trigger.dev/sdk";

/** A plain task. */
export const hello = task({
  id: "hello",
  run: async (payload: { name: string }, { ctx }) => {
    return { message: `Hello, ${payload.name}!`, attempt: ctx.attempt.number };
  },
});
