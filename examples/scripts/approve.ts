/**
 * Completes a wait token (see approval.ts):
 *   RUNPLANE_API_URL=… RUNPLANE_SECRET_KEY=… pnpm exec tsx scripts/approve.ts waitpoint_… [true|false]
 */
import { wait } from "@runplane/worker";

const [tokenId, approved = "true"] = process.argv.slice(2);
if (!tokenId) {
  console.error("usage: approve.ts <tokenId> [true|false]");
  process.exit(1);
}
console.log(JSON.stringify(await wait.completeToken(tokenId, { approved: approved === "true", by: "approve.ts" })));
