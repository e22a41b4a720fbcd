import { metadata, task, wait } from "@runplane/worker";

/**
 * Reports progress through run metadata: changes are applied locally at once and sent in batches
 * (about once a second, and before the attempt completes), so a tight loop costs few requests.
 */
export const importRows = task({
  id: "import-rows",
  maxDuration: 300,
  run: async (payload: { rows?: number; delayMs?: number }) => {
    const rows = payload?.rows ?? 20;
    metadata.replace({ status: "importing", total: rows, done: 0, errors: [] });
    for (let i = 0; i < rows; i++) {
      if (i % 7 === 6) metadata.append("errors", { row: i, reason: "duplicate" });
      else metadata.increment("done");
      metadata.set("percent", Math.round(((i + 1) / rows) * 100));
      if (payload?.delayMs) await wait.for({ seconds: payload.delayMs / 1000 });
    }
    metadata.set("status", "done");
    return metadata.current();
  },
});
