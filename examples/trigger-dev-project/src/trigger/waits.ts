import { metadata, task, wait } from "@trigger.dev/sdk";

/** wait.for longer than the SDK's in-process threshold, so the server holds the run. */
export const sleeper = task({
  id: "sleeper",
  run: async () => {
    const before = Date.now();
    await wait.for({ seconds: 3 });
    return { waitedMs: Date.now() - before };
  },
});

/** Waits for a token created outside the task and completed through the SDK. */
export const approval = task({
  id: "approval",
  run: async (payload: { tokenId: string }) => {
    metadata.set("waitingFor", payload.tokenId);
    await metadata.flush();
    const result = await wait.forToken<{ approved: boolean }>(payload.tokenId);
    return result.ok ? { approved: result.output.approved } : { timedOut: true };
  },
});
