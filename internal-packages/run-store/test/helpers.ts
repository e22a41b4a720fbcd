import { generateFriendlyId, fromFriendlyId, type MintKind } from "@runplane/core";
import type { RunStore } from "../src/index.js";

/** Inserts a minimal run (with its first snapshot) in the database its id shape routes to. */
export async function insertRun(store: RunStore, kind: MintKind, environmentId = "env_1") {
  const friendlyId = generateFriendlyId("run", kind);
  const id = fromFriendlyId(friendlyId, "run");
  await store.clientFor(id).taskRun.create({
    data: {
      id,
      friendlyId,
      runtimeEnvironmentId: environmentId,
      projectId: "proj_1",
      organizationId: "org_1",
      taskIdentifier: "hello",
      payload: "{}",
      traceId: "t",
      spanId: "s",
      queue: "task/hello",
      runTags: [],
    },
  });
  return { id, friendlyId };
}
