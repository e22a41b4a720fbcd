/**
 * Triggers one run from outside a worker:
 *   RUNPLANE_API_URL=http://localhost:3030 RUNPLANE_SECRET_KEY=tr_dev_… pnpm exec tsx scripts/trigger.ts hello-world '{"name":"Ada"}'
 */
import { helloWorld } from "../hello-world.js";
import { approval } from "../approval.js";
import { processAlbum } from "../parent-child.js";
import { importRows } from "../progress.js";
import { retrying } from "../retrying.js";

const tasks = { "hello-world": helloWorld, retrying, "process-album": processAlbum, approval, "import-rows": importRows };
const [taskId, payloadJson] = process.argv.slice(2);
const chosen = tasks[taskId as keyof typeof tasks];
if (!chosen) {
  console.error(`usage: trigger.ts <${Object.keys(tasks).join("|")}> [payload JSON]`);
  process.exit(1);
}
const handle = await chosen.trigger(payloadJson ? JSON.parse(payloadJson) : {});
console.log(JSON.stringify(handle));
