import { configure, runs } from "@trigger.dev/sdk";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { waitFor } from "../api/support/api";
import { startTestServer, type TestServer } from "../support/testServer";
import { notExactlyOnce, rowCounts, runDatabases, startTriggerLoad, waitForRows } from "./support";

/**
 * Two webapp processes of one deployment (same databases, same Redis prefix), load split across them:
 * no duplicate runs, both drainers take a share of a burst, and a realtime subscriber on A sees a
 * change made through B.
 */
describe("two webapp instances of one deployment", () => {
  let a: TestServer;
  let b: TestServer;

  beforeAll(async () => {
    const burstEnv = { MOLLIFIER_TRIP_THRESHOLD: "1", MOLLIFIER_HOLD_MS: "60000", API_RATE_LIMIT_ENABLED: "false", MOLLIFIER_DRAIN_CONCURRENCY: "4" };
    a = await startTestServer({ env: burstEnv });
    b = await startTestServer({ sameDataAs: a, env: burstEnv });
  }, 180_000);
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
  }, 60_000);

  test("one idempotency key sent to both instances at once makes one run", async () => {
    const send = (server: TestServer, i: number) =>
      fetch(`${server.baseUrl}/api/v1/tasks/hello/trigger`, {
        method: "POST",
        headers: { authorization: `Bearer ${server.devSecretKey}`, "content-type": "application/json" },
        body: JSON.stringify({ payload: { i }, options: { idempotencyKey: "two-instances-once" } }),
      }).then(async (r) => ({ status: r.status, id: ((await r.json()) as { id: string }).id }));
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => send(i % 2 ? b : a, i)));
    expect(answers.every((x) => x.status === 200)).toBe(true);
    const ids = new Set(answers.map((x) => x.id));
    expect(ids.size).toBe(1);
    const counts = await waitForRows(runDatabases(a), [...ids], 60_000);
    expect(notExactlyOnce([...ids], counts)).toEqual([]);
  }, 120_000);

  test("a burst split across both lands exactly once, and both drainers take a share", async () => {
    const loadA = startTriggerLoad(a, 10);
    const loadB = startTriggerLoad(b, 10);
    await waitFor(async () => loadA.tally.accepted.length + loadB.tally.accepted.length >= 1_000, 90_000, "1,000 accepted triggers");
    const accepted = [...(await loadA.stop()).accepted, ...(await loadB.stop()).accepted];
    const counts = await waitForRows(runDatabases(a), accepted, 120_000);
    expect(notExactlyOnce(accepted, counts)).toEqual([]);
    expect((await rowCounts(runDatabases(a), accepted)).size).toBe(new Set(accepted).size);

    const drained = async (server: TestServer) => {
      const text = await (await fetch(`${server.baseUrl}/metrics`)).text();
      const line = text.split("\n").find((l) => l.startsWith("mollifier_drain_entries_total") && l.includes('outcome="drained"'));
      return Number(line?.split(" ").at(-1) ?? 0);
    };
    expect(await drained(a)).toBeGreaterThan(0);
    expect(await drained(b)).toBeGreaterThan(0);
  }, 240_000);

  test("a realtime subscriber on A sees a change made through B", async () => {
    configure({ baseURL: a.baseUrl, accessToken: a.devSecretKey });
    const trigger = await fetch(`${a.baseUrl}/api/v1/tasks/hello/trigger`, {
      method: "POST",
      headers: { authorization: `Bearer ${a.devSecretKey}`, "content-type": "application/json" },
      body: JSON.stringify({ payload: {}, options: { delay: "1h" } }),
    });
    const { id } = (await trigger.json()) as { id: string };
    const seen: Array<{ status: string; tags: string[] }> = [];
    const consumed = (async () => {
      for await (const run of runs.subscribeToRun(id)) seen.push({ status: run.status, tags: run.tags });
    })();
    await vi.waitFor(() => expect(seen.length).toBeGreaterThan(0), { timeout: 15_000 });

    const tagged = await fetch(`${b.baseUrl}/api/v1/runs/${id}/tags`, {
      method: "POST",
      headers: { authorization: `Bearer ${a.devSecretKey}`, "content-type": "application/json" },
      body: JSON.stringify({ tags: ["from-b"] }),
    });
    expect(tagged.status).toBe(200);
    await vi.waitFor(() => expect(seen.at(-1)?.tags).toContain("from-b"), { timeout: 15_000 });

    const cancelled = await fetch(`${b.baseUrl}/api/v2/runs/${id}/cancel`, {
      method: "POST",
      headers: { authorization: `Bearer ${a.devSecretKey}`, "content-type": "application/json" },
    });
    expect(cancelled.status).toBe(200);
    await consumed; // the subscription on A ends once B has finished the run
    expect(seen.at(-1)?.status).toBe("CANCELED");
  }, 120_000);
});
