import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/testServer";
import { createOrganization, csrfFrom, DEV_ENV_PATH, engineFor, get, loginAs, post, type EngineDriver } from "./helpers";

let server: TestServer;
let driver: EngineDriver;
let cookie: string;

beforeAll(async () => {
  server = await startTestServer();
  driver = await engineFor(server);
  cookie = (await loginAs(server, "admin@localhost")).cookie;
});
afterAll(async () => {
  await driver?.close();
  await server?.stop();
});

const QUEUES = `${DEV_ENV_PATH}/queues`;
const ENVIRONMENT = `${DEV_ENV_PATH}/environment`;

async function csrf(path: string, who = cookie): Promise<string> {
  return csrfFrom(await (await get(server, path, who)).text());
}

describe("queues page", () => {
  it("pauses and resumes a queue, overrides its limit and removes the override; the run queue enforces each", async () => {
    await driver.register(driver.dev, { version: "1", tasks: [{ id: "dash-q", queue: { name: "task/dash-q", concurrencyLimit: 4 } }] });
    const token = await csrf(QUEUES);
    const runQueue = driver.engine.runQueue;

    const paused = await post(server, QUEUES, cookie, { intent: "queue-pause", queue: "task/dash-q", csrf: token });
    expect(paused.status).toBe(200);
    expect(await runQueue.queueSettings(driver.dev.id, "task/dash-q")).toMatchObject({ paused: true });
    expect((await driver.cp.taskQueue.findFirstOrThrow({ where: { name: "task/dash-q" } })).paused).toBe(true);
    expect(await (await get(server, QUEUES, cookie)).text()).toContain("Resume");
    await post(server, QUEUES, cookie, { intent: "queue-resume", queue: "task/dash-q", csrf: token });
    expect(await runQueue.queueSettings(driver.dev.id, "task/dash-q")).toMatchObject({ paused: false });

    expect((await post(server, QUEUES, cookie, { intent: "queue-override", queue: "task/dash-q", limit: "1", csrf: token })).status).toBe(200);
    expect(await runQueue.queueSettings(driver.dev.id, "task/dash-q")).toMatchObject({ limit: 1 });
    expect(await (await get(server, QUEUES, cookie)).text()).toMatch(/overridden, declared (<!-- -->)?4/);
    // A worker registering again keeps the operator's override.
    await driver.register(driver.dev, { version: "2", tasks: [{ id: "dash-q", queue: { name: "task/dash-q", concurrencyLimit: 4 } }] });
    expect(await runQueue.queueSettings(driver.dev.id, "task/dash-q")).toMatchObject({ limit: 1 });

    expect((await post(server, QUEUES, cookie, { intent: "queue-reset", queue: "task/dash-q", csrf: token })).status).toBe(200);
    expect(await runQueue.queueSettings(driver.dev.id, "task/dash-q")).toMatchObject({ limit: 4 });

    const bad = await post(server, QUEUES, cookie, { intent: "queue-override", queue: "task/dash-q", limit: "-3", csrf: token });
    expect(bad.status).toBe(400);
    expect(await runQueue.queueSettings(driver.dev.id, "task/dash-q")).toMatchObject({ limit: 4 });
    expect((await post(server, QUEUES, cookie, { intent: "queue-pause", queue: "task/nope", csrf: token })).status).toBe(404);
  });

  it("shows executing and waiting runs apart", async () => {
    await driver.register(driver.dev, { version: "3", tasks: [{ id: "dash-q", queue: { name: "task/dash-q", concurrencyLimit: 4 } }, { id: "dash-w" }] });
    const { engine } = driver;
    await driver.trigger(driver.dev, { taskIdentifier: "dash-w" });
    await driver.trigger(driver.dev, { taskIdentifier: "dash-w" });
    const started = [];
    for (let i = 0; i < 2; i++) {
      const [dequeued] = await engine.dequeue({ environmentId: driver.dev.id, consumerId: "test", maxRuns: 1, waitMs: 2_000 });
      started.push({ runId: dequeued.runId, snapshotId: (await engine.startRunAttempt(dequeued.runId, dequeued.snapshotId)).snapshotId });
    }
    const { waitpoint } = await engine.createManualWaitpoint({ environment: driver.dev });
    await engine.blockRunWithWaitpoint(started[0].runId, started[0].snapshotId, [waitpoint.id]);
    const html = await (await get(server, QUEUES, cookie)).text();
    const row = html.slice(html.indexOf("task/dash-w"), html.indexOf("</tr>", html.indexOf("task/dash-w")));
    // Executing 1, waiting 1 (blocked on its token, holding no slot).
    expect(row.replace(/<!-- -->/g, "")).toMatch(/<td class="num">0<\/td><td class="num">1<\/td><td class="num"[^>]*>1<\/td>/);
    for (const run of started) await engine.cancelRun(run.runId, { finalize: true });
  });

  it("refuses a missing CSRF token and users outside the organisation", async () => {
    expect((await post(server, QUEUES, cookie, { intent: "queue-pause", queue: "task/dash-q" })).status).toBe(403);
    await createOrganization(driver.cp, "elsewhere", ["outsider@example.com"]);
    const outsider = (await loginAs(server, "outsider@example.com")).cookie;
    expect((await get(server, QUEUES, outsider)).status).toBe(404);
    expect((await post(server, ENVIRONMENT, outsider, { intent: "set-limit", limit: "1", csrf: "x" })).status).toBe(404);
    expect(await driver.engine.runQueue.queueSettings(driver.dev.id, "task/dash-q")).toMatchObject({ paused: false });
  });
});

describe("environment page", () => {
  it("changes the environment's concurrency limit, enforced by the run queue at once", async () => {
    expect(await (await get(server, ENVIRONMENT, cookie)).text()).toContain("Concurrency limit");
    const token = await csrf(ENVIRONMENT);
    const saved = await post(server, ENVIRONMENT, cookie, { intent: "set-limit", limit: "7", csrf: token });
    expect(saved.status).toBe(200);
    expect(await driver.engine.runQueue.envConcurrencyLimit(driver.dev.id)).toBe(7);
    expect((await driver.cp.runtimeEnvironment.findUniqueOrThrow({ where: { id: driver.dev.id } })).maximumConcurrencyLimit).toBe(7);

    const bad = await post(server, ENVIRONMENT, cookie, { intent: "set-limit", limit: "0", csrf: token });
    expect(bad.status).toBe(400);
    expect(await driver.engine.runQueue.envConcurrencyLimit(driver.dev.id)).toBe(7);
  });

  it("bootstrapped environments get DEFAULT_ENV_CONCURRENCY_LIMIT (100 by default)", async () => {
    expect((await driver.cp.runtimeEnvironment.findUniqueOrThrow({ where: { id: driver.prod.id } })).maximumConcurrencyLimit).toBe(100);
  });
});
