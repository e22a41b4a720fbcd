import { metadataObjectFromPacket } from "@runplane/core/schemas";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { applyMetadataMutationToBufferedRun, routeOperationsToRuns } from "~/v3/mollifier/applyMetadataMutation.server";
import { listRunsWithBuffered } from "~/v3/mollifier/listFallback.server";
import { mollifyTrigger } from "~/v3/mollifier/mollify.server";
import { mutateWithFallback, resolveRunForMutation } from "~/v3/mollifier/mutateWithFallback.server";
import { findRunWithMollifierFallback } from "~/v3/mollifier/readFallback.server";
import { setupHarness, type Harness } from "./harness";

let h: Harness;
beforeEach(async () => {
  h = await setupHarness();
});
afterEach(async () => {
  await h?.close();
});

const mdeps = () => ({ runStore: h.store, buffer: h.mollifier.buffer, logger: h.logger });
const buffer = (overrides = {}) => mollifyTrigger({ buffer: h.mollifier.buffer, mintKind: "LEGACY", logger: h.logger }, { trigger: h.trigger(overrides) });

describe("reads", () => {
  test("a buffered run reads as QUEUED (or DELAYED) with isBuffered; another env's id is not found", async () => {
    const queued = await buffer({ tags: ["x"] });
    const delayed = await buffer({ delayUntil: new Date(Date.now() + 60_000) });
    const q = await findRunWithMollifierFallback(mdeps(), { runId: queued.id, environmentId: h.env.id });
    expect(q).toMatchObject({ isBuffered: true, run: { friendlyId: queued.id, status: "PENDING", runTags: ["x"], taskIdentifier: "hello" } });
    const d = await findRunWithMollifierFallback(mdeps(), { runId: delayed.id, environmentId: h.env.id });
    expect(d?.run.status).toBe("DELAYED");
    const other = await h.makeEnv();
    expect(await findRunWithMollifierFallback(mdeps(), { runId: queued.id, environmentId: other.id })).toBeNull();
    await h.drainAll();
    const after = await findRunWithMollifierFallback(mdeps(), { runId: queued.id, environmentId: h.env.id });
    expect(after).toMatchObject({ isBuffered: false, run: { friendlyId: queued.id, status: "PENDING" } });
  });

  test("lists merge buffered runs newest first with their real status, filters apply, pages are stable across the drain", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      if (i % 2 === 0) ids.push((await h.engine.trigger(h.trigger({ tags: ["even"] }))).run.friendlyId);
      else ids.push((await buffer({ tags: ["odd"] })).id);
      await new Promise((r) => setTimeout(r, 5));
    }
    const pgPage = (limit: number, after?: { createdAt: Date; id: string }) =>
      h.store.listRuns({ environmentId: h.env.id, limit, after });
    const page1 = await listRunsWithBuffered({ buffer: h.mollifier.buffer, logger: h.logger }, { environmentId: h.env.id, limit: 4, pgPage });
    expect(page1.map((r) => r.run.friendlyId)).toEqual([...ids].reverse().slice(0, 4));
    expect(page1.map((r) => r.isBuffered)).toEqual([true, false, true, false]);
    const last = page1[3]!.run;
    const page2 = await listRunsWithBuffered(
      { buffer: h.mollifier.buffer, logger: h.logger },
      { environmentId: h.env.id, limit: 4, after: { createdAt: last.createdAt, id: last.id }, pgPage }
    );
    expect(page2.map((r) => r.run.friendlyId)).toEqual([ids[1], ids[0]]);

    const odd = await listRunsWithBuffered(
      { buffer: h.mollifier.buffer, logger: h.logger },
      { environmentId: h.env.id, limit: 10, filters: { tags: ["odd"] }, pgPage: async () => [] }
    );
    expect(odd.map((r) => r.run.friendlyId)).toEqual([ids[5], ids[3], ids[1]]);

    await h.drainAll();
    const drained = await listRunsWithBuffered({ buffer: h.mollifier.buffer, logger: h.logger }, { environmentId: h.env.id, limit: 10, pgPage });
    expect(drained.map((r) => r.run.friendlyId)).toEqual([...ids].reverse());
    expect(drained.every((r) => !r.isBuffered)).toBe(true);
  });
});

describe("mutations while buffered land on the materialised row", () => {
  test("cancel, tags, metadata and reschedule", async () => {
    const toCancel = await buffer();
    const tagged = await buffer({ tags: ["a"] });
    const withMeta = await buffer({ metadata: JSON.stringify({ count: 1 }) });
    const delayed = await buffer({ delayUntil: new Date(Date.now() + 60_000) });
    const notDelayed = await buffer();
    const base = { environmentId: h.env.id, organizationId: h.env.organizationId, pgMutation: async () => "pg" as const };

    const cancel = await mutateWithFallback(mdeps(), {
      ...base,
      runId: toCancel.id,
      bufferPatch: () => ({ type: "mark_cancelled", cancelledAt: new Date(), cancelReason: "Canceled by user" }),
      synthesisedResponse: () => "snapshot" as const,
    });
    expect(cancel).toEqual({ kind: "snapshot", result: "snapshot" });
    expect((await findRunWithMollifierFallback(mdeps(), { runId: toCancel.id, environmentId: h.env.id }))?.run.status).toBe("CANCELED");

    const tags = await mutateWithFallback(mdeps(), {
      ...base,
      runId: tagged.id,
      bufferPatch: () => ({ type: "append_tags", tags: ["a", "b", "c"], maxTags: 10 }),
      synthesisedResponse: (_b, reply) => `added ${reply.addedTags}`,
      rejectedResponse: () => "too many",
    });
    expect(tags).toEqual({ kind: "snapshot", result: "added 2" });
    const tooMany = await mutateWithFallback(mdeps(), {
      ...base,
      runId: tagged.id,
      bufferPatch: () => ({ type: "append_tags", tags: Array.from({ length: 8 }, (_, i) => `n${i}`), maxTags: 10 }),
      synthesisedResponse: () => "added",
      rejectedResponse: () => "too many",
    });
    expect(tooMany).toEqual({ kind: "rejected", result: "too many" });

    const meta = await applyMetadataMutationToBufferedRun(mdeps(), {
      runId: withMeta.id,
      environmentId: h.env.id,
      body: { operations: [{ type: "increment", key: "count", value: 2 }, { type: "set", key: "s", value: "v" }] },
    });
    expect(meta).toMatchObject({ kind: "applied", metadata: { count: 3, s: "v" } });

    const newDelay = new Date(Date.now() + 120_000);
    const rescheduleOf = (runId: string) =>
      mutateWithFallback(mdeps(), {
        ...base,
        runId,
        bufferPatch: (b) => (b.trigger.delayUntil ? { type: "set_delay", delayUntil: newDelay } : { reject: "not delayed" as const }),
        synthesisedResponse: () => "snapshot" as const,
      });
    expect(await rescheduleOf(delayed.id)).toEqual({ kind: "snapshot", result: "snapshot" });
    expect(await rescheduleOf(notDelayed.id)).toEqual({ kind: "rejected", result: "not delayed" });

    await h.drainAll();
    const row = (id: string) => h.store.findRun({ friendlyId: id });
    expect((await row(toCancel.id))?.status).toBe("CANCELED");
    expect((await row(tagged.id))?.runTags).toEqual(["a", "b", "c"]);
    const metaRow = await row(withMeta.id);
    expect(metadataObjectFromPacket(metaRow!.metadata, metaRow!.metadataType)).toEqual({ count: 3, s: "v" });
    const delayedRow = await row(delayed.id);
    expect(delayedRow?.status).toBe("DELAYED");
    expect(delayedRow?.delayUntil?.getTime()).toBe(newDelay.getTime());
    expect(await h.countRuns()).toBe(5);
  });

  test("a mutation of an entry being drained waits for the row and is applied to it", async () => {
    const { id } = await buffer();
    // pop it (DRAINING) as a drainer would, then materialise it a little later
    const popped = await h.mollifier.buffer.pop({ envId: h.env.id, orgId: h.env.organizationId, leaseMs: 10_000 });
    expect(popped?.runId).toBe(id);
    const { entrySnapshot } = await import("@runplane/redis-worker/mollifier");
    const { createDrainerHandler } = await import("~/v3/mollifier/drainerHandler.server");
    setTimeout(async () => {
      await createDrainerHandler({ engine: h.engine, runStore: h.store, logger: h.logger })({ ...popped!, snapshot: entrySnapshot(popped!) });
      await h.mollifier.buffer.markDrained(id, popped!.leaseId);
      await h.mollifier.buffer.ack(id);
    }, 300);
    const outcome = await mutateWithFallback(mdeps(), {
      runId: id,
      environmentId: h.env.id,
      pgMutation: async (row) => (await h.engine.cancelRun(row.id)).run.status,
      bufferPatch: () => ({ type: "mark_cancelled", cancelledAt: new Date() }),
      synthesisedResponse: () => "snapshot",
    });
    expect(outcome).toEqual({ kind: "pg", result: "CANCELED" });
  });

  test("a drain that never settles within the safety net times out", async () => {
    const { id } = await buffer();
    await h.mollifier.buffer.pop({ envId: h.env.id, orgId: h.env.organizationId, leaseMs: 10_000 });
    const outcome = await mutateWithFallback(mdeps(), {
      runId: id,
      environmentId: h.env.id,
      safetyNetMs: 300,
      pgMutation: async () => "pg",
      bufferPatch: () => ({ type: "mark_cancelled", cancelledAt: new Date() }),
      synthesisedResponse: () => "snapshot",
    });
    expect(outcome).toEqual({ kind: "timed_out" });
  });

  test("resolveRunForMutation: row, buffer, not found (other env)", async () => {
    const pgRun = (await h.engine.trigger(h.trigger())).run;
    const { id } = await buffer();
    expect(await resolveRunForMutation(mdeps(), { runId: pgRun.friendlyId, environmentId: h.env.id })).toMatchObject({ source: "pg" });
    expect(await resolveRunForMutation(mdeps(), { runId: id, environmentId: h.env.id })).toMatchObject({ source: "buffer", taskIdentifier: "hello" });
    const other = await h.makeEnv();
    expect(await resolveRunForMutation(mdeps(), { runId: id, environmentId: other.id })).toBeNull();
  });

  test("concurrent metadata increments on a buffered run all converge (CAS retries)", async () => {
    const { id } = await buffer({ metadata: JSON.stringify({ n: 0 }) });
    const results = await Promise.all(
      Array.from({ length: 30 }, () =>
        applyMetadataMutationToBufferedRun(mdeps(), { runId: id, environmentId: h.env.id, body: { operations: [{ type: "increment", key: "n", value: 1 }] } })
      )
    );
    expect(results.every((r) => r.kind === "applied")).toBe(true);
    const found = await findRunWithMollifierFallback(mdeps(), { runId: id, environmentId: h.env.id });
    expect(metadataObjectFromPacket(found!.run.metadata, found!.run.metadataType)).toEqual({ n: 30 });
  });

  test("parent and root operations go to the real parent and root, never the parent standing in for the root", async () => {
    const root = (await h.engine.trigger(h.trigger({ taskIdentifier: "parent" }))).run;
    const parent = (await h.engine.trigger(h.trigger({ taskIdentifier: "parent", parentRunId: root.friendlyId }))).run;
    const { id } = await buffer({ parentRunId: parent.friendlyId });
    const result = await applyMetadataMutationToBufferedRun(mdeps(), { runId: id, environmentId: h.env.id, body: { metadata: { own: true } } });
    expect(result).toMatchObject({ kind: "applied", parentRunId: parent.friendlyId, rootRunId: root.friendlyId });
    const applied: Record<string, unknown[]> = {};
    await routeOperationsToRuns(mdeps(), {
      runId: id,
      environmentId: h.env.id,
      parentRunId: result.kind === "applied" ? result.parentRunId : undefined,
      rootRunId: result.kind === "applied" ? result.rootRunId : undefined,
      parentOperations: [{ type: "set", key: "p", value: 1 }],
      rootOperations: [{ type: "set", key: "r", value: 1 }],
      applyToRow: async (runId, ops) => {
        (applied[runId] ??= []).push(...ops);
        return true;
      },
    });
    expect(Object.keys(applied).sort()).toEqual([parent.friendlyId, root.friendlyId].sort());
    expect(applied[root.friendlyId]).toEqual([{ type: "set", key: "r", value: 1 }]);
  });
});
