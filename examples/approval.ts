import { logger, metadata, task, wait } from "@runplane/worker";

/**
 * Waits for a person: creates a wait token, publishes its id in the run's metadata and waits for it.
 * Complete it with `POST /api/v1/waitpoints/tokens/<id>/complete {"data":{"approved":true}}`
 * (or examples/scripts/approve.ts). Without an answer it times out after payload.timeout (default 1h).
 */
export const approval = task({
  id: "approval",
  run: async (payload: { amount: number; timeout?: string }) => {
    const token = await wait.createToken({ timeout: payload?.timeout ?? "1h", tags: ["approval"] });
    metadata.set("approvalToken", token.id);
    metadata.set("status", "waiting for approval");
    await metadata.flush();
    logger.info("waiting for approval", { tokenId: token.id, callbackUrl: token.url, amount: payload?.amount });

    const answer = await wait.forToken<{ approved: boolean; by?: string }>(token);
    if (!answer.ok) {
      metadata.set("status", "timed out");
      return { approved: false, reason: answer.error.message };
    }
    metadata.set("status", answer.output.approved ? "approved" : "rejected");
    return { approved: answer.output.approved, by: answer.output.by ?? null };
  },
});
