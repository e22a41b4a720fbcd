import { auth, configure, runs, tasks } from "@trigger.dev/sdk";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { startTestServer, type TestServer } from "../support/testServer";
import { otherInstance, sleep, startNextRun, type OtherInstance } from "./helpers";

/**
 * The published `@trigger.dev/sdk` 4.8.3, unmodified, subscribing through the native realtime feeds.
 * Runs are triggered through the REST API; another instance (an engine in the test process) moves
 * them along, so every live update crosses Redis.
 */
let server: TestServer;
let other: OtherInstance;
let secretKey: string;
let envId: string;

beforeAll(async () => {
  server = await startTestServer();
  other = await otherInstance(server);
  // A dedicated environment: its queue holds only this file's runs.
  const created = await other.newEnvironment();
  secretKey = created.secretKey;
  envId = created.env.id;
  configure({ baseURL: server.baseUrl, accessToken: secretKey });
}, 120_000);

afterAll(async () => {
  await other?.close();
  await server?.stop();
});

type Seen = { id: string; status: string; output?: unknown; metadata?: unknown; tags: string[] };

describe("runs.subscribeToRun", () => {
  test("yields the run as it is queued, executes and completes, then ends", async () => {
    const handle = await tasks.trigger("hello", { n: 1 }, { tags: ["sdk"] });
    const seen: Seen[] = [];
    const consumed = (async () => {
      for await (const run of runs.subscribeToRun(handle.id)) {
        seen.push({ id: run.id, status: run.status, output: run.output, metadata: run.metadata, tags: run.tags });
      }
    })();

    await vi.waitFor(() => expect(seen.at(-1)?.status).toBe("QUEUED"), { timeout: 10_000 });
    expect(seen[0]).toMatchObject({ id: handle.id, tags: ["sdk"] });

    const { runId, snapshotId } = await startNextRun(other, { id: envId });
    await vi.waitFor(() => expect(seen.at(-1)?.status).toBe("EXECUTING"), { timeout: 5_000 });
    await other.engine.updateMetadata(runId, { metadata: JSON.stringify({ progress: 0.5 }) });
    await vi.waitFor(() => expect(seen.at(-1)?.metadata).toEqual({ progress: 0.5 }), { timeout: 5_000 });
    await other.engine.completeRunAttempt(runId, snapshotId, { ok: true, output: JSON.stringify({ greeting: "hi" }) });

    await consumed; // the subscription ends by itself once the run has finished
    expect(seen.at(-1)).toMatchObject({ status: "COMPLETED", output: { greeting: "hi" } });
    expect(seen.map((s) => s.status)).toEqual(expect.arrayContaining(["QUEUED", "EXECUTING", "COMPLETED"]));
  }, 60_000);

  test("a cancelled run ends the subscription with CANCELED and its error", async () => {
    const handle = await tasks.trigger("hello", { n: 2 }, { delay: "1h" });
    const seen: Array<{ status: string; error?: unknown; finishedAt?: Date }> = [];
    const consumed = (async () => {
      for await (const run of runs.subscribeToRun(handle.id)) seen.push({ status: run.status, error: run.error, finishedAt: run.finishedAt });
    })();
    await vi.waitFor(() => expect(seen.at(-1)?.status).toBe("DELAYED"), { timeout: 10_000 });
    await sleep(300);
    await other.engine.cancelRun(handle.id.replace(/^run_/, ""), { reason: "stop" });
    await consumed;
    expect(seen.at(-1)).toMatchObject({ status: "CANCELED" });
    expect(seen.at(-1)?.finishedAt).toBeInstanceOf(Date);
  }, 30_000);

  test("the trigger's public token subscribes; a token for another run is refused", async () => {
    const handle = await tasks.trigger("hello", { n: 3 }, { delay: "1h" });
    const other2 = await tasks.trigger("hello", { n: 4 }, { delay: "1h" });
    expect(handle.publicAccessToken).toBeTruthy();

    const first = await auth.withAuth({ accessToken: handle.publicAccessToken }, async () => {
      for await (const run of runs.subscribeToRun(handle.id)) return run;
      return undefined;
    });
    expect(first).toMatchObject({ id: handle.id, status: "DELAYED" });

    // The 4.8.3 client turns a 403 into a subscription that never yields (its fetch error is only logged).
    const yielded: unknown[] = [];
    const controller = new AbortController();
    const refused = auth.withAuth({ accessToken: other2.publicAccessToken }, async () => {
      try {
        for await (const run of runs.subscribeToRun(handle.id, { signal: controller.signal })) yielded.push(run);
      } catch {
        // aborted
      }
    });
    await sleep(2000);
    controller.abort();
    await Promise.race([refused, sleep(1000)]);
    expect(yielded).toEqual([]);
  }, 30_000);
});

describe("runs.subscribeToRunsWithTag and runs.subscribeToBatch", () => {
  test("a tag subscription receives runs triggered after it started", async () => {
    const tag = `sdk-tag-${Date.now()}`;
    const before = await tasks.trigger("hello", { n: 5 }, { tags: [tag], delay: "1h" });
    const seen = new Map<string, string>();
    const controller = new AbortController();
    const consumed = (async () => {
      try {
        for await (const run of runs.subscribeToRunsWithTag(tag, undefined, { signal: controller.signal })) seen.set(run.id, run.status);
      } catch {
        // aborted
      }
    })();
    await vi.waitFor(() => expect(seen.get(before.id)).toBe("DELAYED"), { timeout: 10_000 });
    const after = await tasks.trigger("other", { n: 6 }, { tags: [tag, "more"], delay: "1h" });
    await vi.waitFor(() => expect(seen.get(after.id)).toBe("DELAYED"), { timeout: 5_000 });
    await other.engine.cancelRun(before.id.replace(/^run_/, ""));
    await vi.waitFor(() => expect(seen.get(before.id)).toBe("CANCELED"), { timeout: 5_000 });
    controller.abort();
    await consumed;
  }, 30_000);

  test("a batch subscription yields each run of the batch as it changes", async () => {
    const env = (await other.resolver.resolveEnvByApiKey(secretKey))!;
    const { batch } = await other.engine.createBatch({ environment: env, runCount: 2 });
    const a = await other.trigger({ batch: { id: batch.friendlyId, index: 0 }, delayUntil: new Date(Date.now() + 3_600_000) }, env);
    const seen = new Map<string, string>();
    const subscription = runs.subscribeToBatch(batch.friendlyId);
    const consumed = (async () => {
      for await (const run of subscription) seen.set(run.id, run.status);
    })().catch(() => {});
    await vi.waitFor(() => expect(seen.get(a.friendlyId)).toBe("DELAYED"), { timeout: 10_000 });
    const b = await other.trigger({ batch: { id: batch.friendlyId, index: 1 }, delayUntil: new Date(Date.now() + 3_600_000) }, env);
    await vi.waitFor(() => expect(seen.get(b.friendlyId)).toBe("DELAYED"), { timeout: 5_000 });
    await other.engine.cancelRun(b.id);
    await vi.waitFor(() => expect(seen.get(b.friendlyId)).toBe("CANCELED"), { timeout: 5_000 });
    subscription.unsubscribe();
    await consumed;
  }, 30_000);
});
