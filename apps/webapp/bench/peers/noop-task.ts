import { task } from "@runplane/worker";

/** The no-op task `pnpm bench:peers` runs on a real worker process: it returns at once. */
export const noop = task({
  id: "noop",
  run: async () => undefined,
});
