import { configure, tasks } from "@trigger.dev/sdk";
import { existsSync } from "node:fs";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, waitFor } from "../api/support/api";
import { startTestServer, type TestServer } from "../support/testServer";
import { DEV_ENV_PATH, get, loginAs, PROD_ENV_PATH } from "./helpers";

/**
 * The dashboard for issue 14's surfaces, in a real browser: a large (offloaded) payload shown with a
 * download link; the environment variables page (reveal, edit, delete); selecting runs and bulk
 * cancelling them with a progress bar. Plus the refusals, over plain HTTP.
 */
const CHROMIUM = "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);

let server: TestServer;
let browser: Browser;
let context: BrowserContext;
const problems: string[] = [];

beforeAll(async () => {
  server = await startTestServer();
  configure({ baseURL: server.baseUrl, accessToken: server.devSecretKey });
  if (!hasChromium) return;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--headless", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  const { cookie } = await loginAs(server, "admin@localhost");
  const [name, value] = cookie.split("=", 2) as [string, string];
  context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  await context.addCookies([{ name, value, url: server.baseUrl }]);
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await server?.stop();
  expect(problems).toEqual([]);
}, 60_000);

async function open(path: string): Promise<Page> {
  const page = await context.newPage();
  page.on("pageerror", (error) => problems.push(`pageerror on ${page.url()}: ${error.message}`));
  await page.goto(`${server.baseUrl}${path}`);
  return page;
}

describe("dashboard: payloads, environment variables, bulk actions", () => {
  it.skipIf(!hasChromium)("shows a large payload with a download link to the whole packet", async () => {
    const body = "x".repeat(300 * 1024);
    const handle = await tasks.trigger("big-payload", { body });
    const page = await open(`${DEV_ENV_PATH}/runs/${handle.id}`);
    const link = page.locator("[data-packet-download]").first();
    await link.waitFor();
    expect(await link.textContent()).toMatch(/Download \(\d+ KiB\)/);
    const href = (await link.getAttribute("href"))!;
    const downloaded = await fetch(href);
    expect(downloaded.status).toBe(200);
    expect(await downloaded.text()).toContain(body);
    expect(await page.locator("pre.packet").first().textContent()).toContain("xxxxxxxx");
    await page.close();
  }, 60_000);

  it.skipIf(!hasChromium)("environment variables page: add, reveal, edit, delete; secrets never shown", async () => {
    const page = await open(`${DEV_ENV_PATH}/envvars`);
    await page.getByRole("heading", { name: "Environment variables" }).waitFor();
    const create = page.locator("[data-envvar-create]");
    await create.locator('input[name="name"]').fill("FEATURE_FLAG");
    await create.locator('input[name="value"]').fill("on");
    await create.getByRole("button", { name: "Add" }).click();
    await page.getByText("FEATURE_FLAG added.").waitFor();
    await create.locator('input[name="name"]').fill("SIGNING_KEY");
    await create.locator('input[name="value"]').fill("very-secret");
    await create.locator('input[name="isSecret"]').check();
    await create.getByRole("button", { name: "Add" }).click();
    await page.getByText("SIGNING_KEY added.").waitFor();

    const row = page.locator('[data-envvar="FEATURE_FLAG"]');
    await expect.poll(() => row.locator("[data-envvar-value]").isVisible()).toBe(false); // hidden until revealed
    await row.getByText("Reveal").click();
    expect(await row.locator("[data-envvar-value]").textContent()).toBe("on");
    expect(await page.content()).not.toContain("very-secret");

    await row.locator('input[name="value"]').fill("off");
    await row.getByRole("button", { name: "Save" }).click();
    await page.getByText("FEATURE_FLAG updated.").waitFor();
    const listed = await api(server, "GET", `/api/v1/projects/${await projectRef()}/envvars/dev`);
    expect(listed.body).toEqual([
      { name: "FEATURE_FLAG", value: "off", isSecret: false },
      { name: "SIGNING_KEY", value: "<redacted>", isSecret: true },
    ]);

    await page.locator('[data-envvar="SIGNING_KEY"]').getByRole("button", { name: "Delete" }).click();
    await page.getByText("SIGNING_KEY deleted.").waitFor();
    await expect.poll(() => page.locator("[data-envvar]").count()).toBe(1);
    await page.close();
  }, 60_000);

  it.skipIf(!hasChromium)("select runs and cancel them; all runs matching a filter; progress bars reach 100%", async () => {
    const handles = await Promise.all([0, 1, 2, 3].map((i) => tasks.trigger("bulk-ui", { i }, { tags: ["ui-bulk"] })));
    const page = await open(`${DEV_ENV_PATH}/runs?tag=ui-bulk`);
    await expect.poll(() => page.locator("tbody tr").count(), { timeout: 10_000 }).toBe(4);
    await page.getByLabel(`Select ${handles[0]!.id}`).check();
    await page.getByLabel(`Select ${handles[1]!.id}`).check();
    await page.locator("[data-bulk-form]").getByRole("button", { name: "Cancel…" }).click();
    await page.waitForURL(/\/bulk-actions$/);
    await page.getByRole("heading", { name: "Bulk actions" }).waitFor();
    await expect.poll(() => page.locator("[data-bulk-progress]").first().getAttribute("data-bulk-progress"), { timeout: 30_000 }).toBe("100");
    expect(await page.locator("[data-bulk-status]").first().textContent()).toBe("completed");
    for (const [i, expected] of [[0, "CANCELED"], [1, "CANCELED"], [2, "PENDING"]] as const) {
      expect((await api(server, "GET", `/api/v3/runs/${handles[i]!.id}`)).body.status).toBe(expected === "CANCELED" ? "CANCELED" : "QUEUED");
    }

    // every run matching the tag filter
    await page.goto(`${server.baseUrl}${DEV_ENV_PATH}/runs?tag=ui-bulk`);
    await page.locator("[data-bulk-form] select").selectOption("filter");
    await page.locator("[data-bulk-form]").getByRole("button", { name: "Cancel…" }).click();
    await page.waitForURL(/\/bulk-actions$/);
    await expect.poll(() => page.locator("[data-bulk-status]").first().textContent(), { timeout: 30_000 }).toBe("completed");
    expect(await page.locator("[data-bulk-progress]").first().getAttribute("data-bulk-progress")).toBe("100");
    await waitFor(async () => {
      const statuses = await Promise.all(handles.map(async (h) => (await api(server, "GET", `/api/v3/runs/${h.id}`)).body.status));
      return statuses.every((s) => s === "CANCELED");
    }, 30_000, "all four cancelled");
    await page.close();
  }, 90_000);

  it("refusals: no session, no CSRF, another org's member", async () => {
    for (const path of ["envvars", "bulk-actions"]) {
      const anonymous = await get(server, `${DEV_ENV_PATH}/${path}`);
      expect(anonymous.status).toBe(302);
      expect(anonymous.headers.get("location")).toMatch(/^\/login/);
    }
    const { cookie } = await loginAs(server, "admin@localhost");
    const noCsrf = await fetch(`${server.baseUrl}${DEV_ENV_PATH}/envvars`, {
      method: "POST",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ intent: "create", name: "NOPE", value: "x" }),
      redirect: "manual",
    });
    expect(noCsrf.status).toBe(403);
    expect((await api(server, "GET", `/api/v1/projects/${await projectRef()}/envvars/dev`)).body.map((v: { name: string }) => v.name)).not.toContain("NOPE");
    // a user of no organisation sees none of this environment's pages
    const stranger = await loginAs(server, "stranger@example.com");
    expect((await get(server, `${DEV_ENV_PATH}/envvars`, stranger.cookie)).status).toBe(404);
    expect((await get(server, `${PROD_ENV_PATH}/bulk-actions`, stranger.cookie)).status).toBe(404);
  }, 60_000);
});

async function projectRef(): Promise<string> {
  return /Project:\s+\S+ \((proj_[a-z0-9]+)\)/.exec(server.output().stdout)![1]!;
}
