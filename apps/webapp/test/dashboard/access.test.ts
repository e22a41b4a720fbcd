import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/testServer";
import { createOrganization, csrfFrom, DEV_ENV_PATH, engineFor, get, loginAs, post, PROD_ENV_PATH, type EngineDriver } from "./helpers";

let server: TestServer;
let driver: EngineDriver;
let admin: string;
let bob: string;
let acmePath: string;
let defaultRun: string;

beforeAll(async () => {
  server = await startTestServer();
  driver = await engineFor(server);
  acmePath = await createOrganization(driver.cp, "acme", ["bob@example.com"]);
  admin = (await loginAs(server, "admin@localhost")).cookie;
  bob = (await loginAs(server, "bob@example.com")).cookie;
  defaultRun = (await driver.trigger(driver.dev, { taskIdentifier: "secret-task" })).friendlyId;
});
afterAll(async () => {
  await driver?.close();
  await server?.stop();
});

describe("organisation membership", () => {
  it("a member sees their organisation's runs", async () => {
    const page = await get(server, `${DEV_ENV_PATH}/runs`, admin);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(defaultRun);
    expect(html).toContain("secret-task");
    const run = await get(server, `${DEV_ENV_PATH}/runs/${defaultRun}`, admin);
    expect(run.status).toBe(200);
  });

  it("a non-member gets 404 on every page of another organisation, even with a valid session and CSRF token", async () => {
    for (const path of [
      "/orgs/default",
      `${DEV_ENV_PATH}`,
      `${DEV_ENV_PATH}/runs`,
      `${DEV_ENV_PATH}/runs/${defaultRun}`,
      `${DEV_ENV_PATH}/queues`,
      `${DEV_ENV_PATH}/waitpoints`,
      `${DEV_ENV_PATH}/batches`,
      `${PROD_ENV_PATH}/runs`,
    ]) {
      const page = await get(server, path, bob);
      expect(page.status, path).toBe(404);
      expect(await page.text()).not.toContain(defaultRun);
    }
    const bobsPage = await get(server, `${acmePath}/runs`, bob);
    const bobsCsrf = csrfFrom(await bobsPage.text());
    const cancel = await post(server, `${DEV_ENV_PATH}/runs/${defaultRun}`, bob, { intent: "cancel", csrf: bobsCsrf });
    expect(cancel.status).toBe(404);
    expect((await driver.store.findRun({ friendlyId: defaultRun }))?.status).toBe("PENDING");
  });

  it("members see their own organisation, and only theirs in the switcher", async () => {
    const home = await get(server, "/", bob);
    expect(home.headers.get("location")).toBe(`${acmePath}/runs`);
    const page = await get(server, `${acmePath}/runs`, bob);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("ACME");
    expect(html).not.toContain(`${DEV_ENV_PATH}/runs`);
  });

  it("admins are not members of every organisation: they get 404 too", async () => {
    expect((await get(server, `${acmePath}/runs`, admin)).status).toBe(404);
  });

  it("a run of another environment is not found through this environment's URL", async () => {
    expect((await get(server, `${PROD_ENV_PATH}/runs/${defaultRun}`, admin)).status).toBe(404);
    expect((await get(server, `${DEV_ENV_PATH}/runs/run_doesnotexist`, admin)).status).toBe(404);
  });
});

describe("/admin", () => {
  it("refuses non-admins with 404 (pages and actions)", async () => {
    for (const path of ["/admin", "/admin/runs", `/admin/runs/${defaultRun}`, "/admin/orgs/default"]) {
      expect((await get(server, path, bob)).status, path).toBe(404);
    }
    const bobsCsrf = csrfFrom(await (await get(server, `${acmePath}/runs`, bob)).text());
    const add = await post(server, "/admin/orgs/default", bob, { intent: "add", email: "bob@example.com", csrf: bobsCsrf });
    expect(add.status).toBe(404);
    expect((await get(server, `${DEV_ENV_PATH}/runs`, bob)).status).toBe(404);
  });

  it("sends anonymous visitors to log in", async () => {
    const page = await get(server, "/admin");
    expect(page.status).toBe(302);
    expect(page.headers.get("location")).toBe("/login?redirectTo=%2Fadmin");
  });

  it("lists users and organisations for admins", async () => {
    const page = await get(server, "/admin", admin);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("bob@example.com");
    expect(html).toContain("acme");
    const search = await (await get(server, "/admin?q=bob", admin)).text();
    expect(search).toContain("bob@example.com");
    expect(search).not.toContain("admin@localhost</td>");
  });

  it("debugs any run by id, even in an organisation the admin is not a member of", async () => {
    const acmeEnvId = (await driver.cp.runtimeEnvironment.findFirstOrThrow({ where: { organization: { slug: "acme" } } })).id;
    const acmeEnv = (await driver.resolver.resolveEnv(acmeEnvId))!;
    const acmeRun = await driver.trigger(acmeEnv, { taskIdentifier: "acme-task", concurrencyKey: "tenant-9" });
    const page = await get(server, `/admin/runs/${acmeRun.friendlyId}`, admin);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("control-plane database");
    expect(html).toContain(`${server.redis.keyPrefix}engine:runqueue:env:${acmeEnvId}:q:task/acme-task:ck:tenant-9`);
    expect(html).toContain("&quot;state&quot;: &quot;queued&quot;");
    // The internal id works too; an unknown id is a 404 page.
    expect((await get(server, `/admin/runs/${acmeRun.id}`, admin)).status).toBe(200);
    expect((await get(server, "/admin/runs/run_nope", admin)).status).toBe(404);
  });

  it("adds a member to an organisation (CSRF required), who can then see it", async () => {
    const adminPage = await (await get(server, "/admin/orgs/default", admin)).text();
    const csrf = csrfFrom(adminPage);
    expect((await post(server, "/admin/orgs/default", admin, { intent: "add", email: "bob@example.com" })).status).toBe(403);
    const added = await post(server, "/admin/orgs/default", admin, { intent: "add", email: "bob@example.com", csrf });
    expect(added.status).toBe(200);
    expect((await get(server, `${DEV_ENV_PATH}/runs`, bob)).status).toBe(200);
  });
});
