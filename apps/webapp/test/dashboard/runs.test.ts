import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/testServer";
import { csrfFrom, DEV_ENV_PATH, engineFor, get, loginAs, post, type EngineDriver } from "./helpers";

let server: TestServer;
let driver: EngineDriver;
let cookie: string;

function linkWithRel(html: string, rel: string): string | undefined {
  const tag = new RegExp(`<a[^>]*rel="${rel}"[^>]*>`).exec(html)?.[0];
  return tag ? /href="([^"]+)"/.exec(tag)?.[1].replace(/&amp;/g, "&") : undefined;
}

const runIds = (html: string) => [...new Set([...html.matchAll(/>(run_[A-Za-z0-9]+)</g)].map((m) => m[1]))];

beforeAll(async () => {
  server = await startTestServer();
  driver = await engineFor(server);
  cookie = (await loginAs(server, "admin@localhost")).cookie;
});
afterAll(async () => {
  await driver?.close();
  await server?.stop();
});

describe("runs list", () => {
  it("filters by status, task, tag and period, and pages 25 at a time both ways", async () => {
    await driver.register(driver.dev, { version: "20260101.1", tasks: [{ id: "alpha" }, { id: "beta" }] });
    const runs: { id: string; friendlyId: string }[] = [];
    for (let i = 0; i < 27; i++) {
      runs.push(await driver.trigger(driver.dev, { taskIdentifier: i % 3 === 0 ? "beta" : "alpha", tags: i === 4 ? ["vip"] : [] }));
    }
    const triggered = runs.map((r) => r.friendlyId);
    const newestFirst = [...triggered].reverse();
    const completed = await driver.execute(driver.dev, { output: { ok: true } });
    expect(completed).not.toBeNull();

    const first = await (await get(server, `${DEV_ENV_PATH}/runs`, cookie)).text();
    expect(runIds(first)).toEqual(newestFirst.slice(0, 25));
    const next = linkWithRel(first, "next");
    expect(next).toBeDefined();
    const second = await (await get(server, next!, cookie)).text();
    expect(runIds(second)).toEqual(newestFirst.slice(25));
    expect(second).not.toMatch(/rel="next"/);
    const previous = linkWithRel(second, "prev");
    const back = await (await get(server, previous!, cookie)).text();
    expect(runIds(back)).toEqual(newestFirst.slice(0, 25));
    expect(back).not.toMatch(/rel="prev"/);

    const onlyCompleted = await (await get(server, `${DEV_ENV_PATH}/runs?statuses=COMPLETED`, cookie)).text();
    expect(runIds(onlyCompleted)).toEqual([completed]);
    const queuedOrCompleted = await (await get(server, `${DEV_ENV_PATH}/runs?statuses=COMPLETED&statuses=QUEUED&task=beta`, cookie)).text();
    expect(runIds(queuedOrCompleted).sort()).toEqual(triggered.filter((_, i) => i % 3 === 0).sort());
    const vip = await (await get(server, `${DEV_ENV_PATH}/runs?tag=vip`, cookie)).text();
    expect(runIds(vip)).toEqual([triggered[4]]);

    const oldIndex = runs.findIndex((r) => r.friendlyId !== completed);
    const old = runs[oldIndex];
    const oldTask = oldIndex % 3 === 0 ? "beta" : "alpha";
    await driver.store.updateRun(old.id, { createdAt: new Date(Date.now() - 3 * 24 * 3600_000) });
    const lastDay = await (await get(server, `${DEV_ENV_PATH}/runs?period=24h&statuses=QUEUED&task=${oldTask}`, cookie)).text();
    expect(runIds(lastDay)).not.toContain(old.friendlyId);
    const all = await (await get(server, `${DEV_ENV_PATH}/runs?period=all&statuses=QUEUED&task=${oldTask}`, cookie)).text();
    expect(runIds(all)).toContain(old.friendlyId);

    // Junk parameters are ignored, not errors.
    const junk = await get(server, `${DEV_ENV_PATH}/runs?statuses=NOPE&period=forever&after=garbage`, cookie);
    expect(junk.status).toBe(200);
  });

  it("shows an empty state in an environment without runs", async () => {
    const html = await (await get(server, "/orgs/default/projects/default/env/prod/runs", cookie)).text();
    expect(html).toContain("No runs yet");
  });
});

describe("run page actions", () => {
  it("cancel needs the session's CSRF token; with it the run is canceled", async () => {
    const run = await driver.trigger(driver.prod, { taskIdentifier: "to-cancel", idempotencyKey: "idem-1", tags: ["t1"] });
    const path = `/orgs/default/projects/default/env/prod/runs/${run.friendlyId}`;
    const page = await get(server, path, cookie);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("Cancel run");
    expect(html).toContain("idem-1");
    expect(html).toContain("QUEUED"); // the snapshot timeline
    const csrf = csrfFrom(html);

    const missing = await post(server, path, cookie, { intent: "cancel" });
    expect(missing.status).toBe(403);
    const wrong = await post(server, path, cookie, { intent: "cancel", csrf: csrf.slice(0, -2) + "xx" });
    expect(wrong.status).toBe(403);
    // A token from another session is no good either.
    const other = await loginAs(server, "admin@localhost");
    const otherCsrf = csrfFrom(await (await get(server, path, other.cookie)).text());
    expect(otherCsrf).not.toBe(csrf);
    expect((await post(server, path, cookie, { intent: "cancel", csrf: otherCsrf })).status).toBe(403);
    expect((await driver.store.findRun({ friendlyId: run.friendlyId }))?.status).toBe("PENDING");

    const cancel = await post(server, path, cookie, { intent: "cancel", csrf });
    expect(cancel.status).toBe(200);
    expect(await cancel.text()).toContain("Run canceled.");
    expect((await driver.store.findRun({ friendlyId: run.friendlyId }))?.status).toBe("CANCELED");
    const after = await (await get(server, path, cookie)).text();
    expect(after).not.toContain("Cancel run");
    expect(after).toContain("Canceled");
  });

  it("replay needs the CSRF token; with it a new run is created and opened", async () => {
    const run = await driver.trigger(driver.prod, { taskIdentifier: "to-replay", payload: JSON.stringify({ n: 7 }), tags: ["again"] });
    const path = `/orgs/default/projects/default/env/prod/runs/${run.friendlyId}`;
    const csrf = csrfFrom(await (await get(server, path, cookie)).text());
    expect((await post(server, path, cookie, { intent: "replay" })).status).toBe(403);

    const replay = await post(server, path, cookie, { intent: "replay", csrf });
    expect(replay.status).toBe(302);
    const location = replay.headers.get("location")!;
    const replayId = /\/runs\/(run_[A-Za-z0-9]+)$/.exec(location)![1];
    expect(replayId).not.toBe(run.friendlyId);
    const replayed = await driver.store.findRun({ friendlyId: replayId });
    expect(replayed?.replayedFromTaskRunFriendlyId).toBe(run.friendlyId);
    expect(replayed?.payload).toBe(JSON.stringify({ n: 7 }));
    const page = await (await get(server, location, cookie)).text();
    expect(page).toContain(`Replayed from`);
    expect(page).toContain(run.friendlyId);
  });

  it("resets the idempotency key (CSRF required): the next trigger with that key makes a new run", async () => {
    const run = await driver.trigger(driver.prod, { taskIdentifier: "idem-task", idempotencyKey: "order-42" });
    expect((await driver.trigger(driver.prod, { taskIdentifier: "idem-task", idempotencyKey: "order-42" })).friendlyId).toBe(run.friendlyId);
    const path = `/orgs/default/projects/default/env/prod/runs/${run.friendlyId}`;
    const html = await (await get(server, path, cookie)).text();
    expect(html).toContain("Reset idempotency key");
    expect((await post(server, path, cookie, { intent: "reset-idempotency" })).status).toBe(403);
    const reset = await post(server, path, cookie, { intent: "reset-idempotency", csrf: csrfFrom(html) });
    expect(reset.status).toBe(200);
    expect(await reset.text()).toContain("Idempotency key reset");
    expect((await driver.trigger(driver.prod, { taskIdentifier: "idem-task", idempotencyKey: "order-42" })).friendlyId).not.toBe(run.friendlyId);
  });

  it("shows output and errors of finished runs", async () => {
    await driver.register(driver.prod, { version: "20260101.1", tasks: [{ id: "worky" }] });
    const ok = await driver.trigger(driver.prod, { taskIdentifier: "worky" });
    expect(await driver.execute(driver.prod, { output: { answer: 42 } })).toBe(ok.friendlyId);
    const failed = await driver.trigger(driver.prod, { taskIdentifier: "worky" });
    expect(await driver.execute(driver.prod, { error: "Database exploded" })).toBe(failed.friendlyId);

    const okPage = await (await get(server, `/orgs/default/projects/default/env/prod/runs/${ok.friendlyId}`, cookie)).text();
    expect(okPage).toContain("&quot;answer&quot;: 42");
    expect(okPage).toContain("FINISHED");
    const failedPage = await (await get(server, `/orgs/default/projects/default/env/prod/runs/${failed.friendlyId}`, cookie)).text();
    expect(failedPage).toContain("Error: Database exploded");
    expect(failedPage).toContain("src/trigger/tasks.ts:12:11");
  });
});

describe("queues, wait tokens and batches", () => {
  it("queues show live counts and limits from the run queue", async () => {
    const html = await (await get(server, `${DEV_ENV_PATH}/queues`, cookie)).text();
    expect(html).toContain("task/alpha");
    expect(html).toContain("task/beta");
    const queuedBeta = (await driver.store.listRuns({ environmentId: driver.dev.id, where: { taskIdentifier: "beta", status: "PENDING" }, limit: 100 })).length;
    expect(queuedBeta).toBeGreaterThan(0);
    expect(html).toMatch(new RegExp(`task/beta</span>[^<]*</td><td class="num">${queuedBeta}</td>`));
    const queuedRuns = await (await get(server, `${DEV_ENV_PATH}/runs?statuses=QUEUED&queue=task%2Fbeta&period=all`, cookie)).text();
    expect(runIds(queuedRuns)).toHaveLength(queuedBeta);
  });

  it("wait tokens list MANUAL waitpoints with status filter", async () => {
    const { waitpoint } = await driver.engine.createManualWaitpoint({ environment: driver.dev, tags: ["approval"], idempotencyKey: "order-7" } as never);
    const html = await (await get(server, `${DEV_ENV_PATH}/waitpoints`, cookie)).text();
    expect(html).toContain(waitpoint.friendlyId);
    expect(html).toContain("order-7");
    const done = await (await get(server, `${DEV_ENV_PATH}/waitpoints?status=COMPLETED`, cookie)).text();
    expect(done).not.toContain(waitpoint.friendlyId);
  });

  it("a wait token can be completed with JSON or timed out from its page (CSRF required)", async () => {
    const { waitpoint } = await driver.engine.createManualWaitpoint({ environment: driver.dev, tags: ["review"] } as never);
    const path = `${DEV_ENV_PATH}/waitpoints/${waitpoint.friendlyId}`;
    const html = await (await get(server, path, cookie)).text();
    expect(html).toContain("Complete token");
    const csrf = csrfFrom(html);
    expect((await post(server, path, cookie, { intent: "complete", output: "{}" })).status).toBe(403);
    const bad = await post(server, path, cookie, { intent: "complete", output: "{not json", csrf });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("The output must be valid JSON");
    const done = await post(server, path, cookie, { intent: "complete", output: '{"approved":true}', csrf });
    expect(done.status).toBe(200);
    const row = await driver.store.findWaitpoint({ id: waitpoint.id });
    expect(row?.status).toBe("COMPLETED");
    expect(row?.output).toBe('{"approved":true}');
    expect((await post(server, path, cookie, { intent: "timeout", csrf })).status).toBe(409);

    const other = (await driver.engine.createManualWaitpoint({ environment: driver.dev } as never)).waitpoint;
    const timeout = await post(server, `${DEV_ENV_PATH}/waitpoints/${other.friendlyId}`, cookie, { intent: "timeout", csrf });
    expect(timeout.status).toBe(200);
    expect((await driver.store.findWaitpoint({ id: other.id }))?.outputIsError).toBe(true);
    expect(await (await get(server, `${DEV_ENV_PATH}/waitpoints?status=TIMED_OUT`, cookie)).text()).toContain(other.friendlyId);
    expect((await get(server, `/orgs/default/projects/default/env/prod/waitpoints/${other.friendlyId}`, cookie)).status).toBe(404);
  });

  it("batches list and detail link to their runs", async () => {
    const { batch } = await driver.engine.createBatch({ environment: driver.dev, runCount: 2 });
    const items = [];
    for (let index = 0; index < 2; index++) {
      items.push(await driver.trigger(driver.dev, { taskIdentifier: "alpha", batch: { id: batch.id, index } }));
    }
    const list = await (await get(server, `${DEV_ENV_PATH}/batches`, cookie)).text();
    expect(list).toContain(batch.friendlyId);
    const detail = await get(server, `${DEV_ENV_PATH}/batches/${batch.friendlyId}`, cookie);
    expect(detail.status).toBe(200);
    const html = await detail.text();
    expect(html).toContain(`runs?batch=${batch.friendlyId}`);
    for (const item of items) expect(html).toContain(item.friendlyId);
    const batchRuns = await (await get(server, `${DEV_ENV_PATH}/runs?batch=${batch.friendlyId}&period=all`, cookie)).text();
    expect(runIds(batchRuns).sort()).toEqual(items.map((i) => i.friendlyId).sort());
    expect((await get(server, `${DEV_ENV_PATH}/batches/batch_nope`, cookie)).status).toBe(404);
  });
});
