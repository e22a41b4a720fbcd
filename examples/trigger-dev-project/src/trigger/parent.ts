import { task } from "@trigger.dev/sdk";
import { hello } from "./hello";

/** Waits on one child with triggerAndWait, then on two with batchTriggerAndWait. */
export const parent = task({
  id: "parent",
  run: async () => {
    const single = await hello.triggerAndWait({ name: "child" });
    const batch = await hello.batchTriggerAndWait([{ payload: { name: "one" } }, { payload: { name: "two" } }]);
    return {
      single: single.ok ? single.output.message : null,
      batch: batch.runs.map((run) => (run.ok ? run.output.message : null)),
    };
  },
});
