import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { browserTestsEnabled, launchChromium } from "../support/browser";
import { startTestServer, type TestServer } from "../support/testServer";
import { DEV_ENV_PATH, engineFor, waitForLoginLink, type EngineDriver } from "./helpers";


let server: TestServer;
let driver: EngineDriver;
let browser: Browser;
const problems: string[] = [];

beforeAll(async () => {
  if (!browserTestsEnabled) return;
  server = await startTestServer();
  driver = await engineFor(server);
  browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await driver?.close();
  await server?.stop();
});

function watch(page: Page) {
  page.on("pageerror", (error) => problems.push(`pageerror on ${page.url()}: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console on ${page.url()}: ${message.text().slice(0, 300)}`);
  });
}

async function seed() {
  await driver.register(driver.dev, {
    version: "20260821.1",
    tasks: [{ id: "send-email" }, { id: "resize-image", queue: { name: "images", concurrencyLimit: 2 } }],
  });
  for (let i = 0; i < 3; i++) {
    await driver.trigger(driver.dev, {
      taskIdentifier: "send-email",
      tags: ["user_42", "welcome"],
      payload: JSON.stringify({ to: `user${i}@example.com`, template: "welcome" }),
    });
  }
  await driver.execute(driver.dev, { output: { delivered: true, messageId: "msg_123" } });
  const failed = await driver.execute(driver.dev, { error: "SMTP connection refused" });
  for (let i = 0; i < 2; i++) {
    await driver.trigger(driver.dev, { taskIdentifier: "resize-image", queue: "images", concurrencyKey: `user_${i}`, payload: JSON.stringify({ width: 640 }) });
  }
  await driver.trigger(driver.dev, { taskIdentifier: "send-email", delayUntil: new Date(Date.now() + 3_600_000), idempotencyKey: "digest-2026-08-21" });
  return { failed: failed! };
}

it.skipIf(!browserTestsEnabled)(
  "logs in with the console link, sees the runs list refresh by itself, opens a run and cancels another",
  async () => {
    const { failed } = await seed();
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    watch(page);

    // Anonymous: the runs URL sends us to /login, which comes back to it afterwards.
    await page.goto(`${server.baseUrl}${DEV_ENV_PATH}/runs`);
    await page.waitForURL(/\/login\?redirectTo=/);
    await page.screenshot({ path: "/tmp/runplane-login.png" });
    const before = server.output().stdout.length;
    await page.fill('input[name="email"]', "admin@localhost");
    await page.click('button[type="submit"]');
    await page.getByText("Check the server log").waitFor();
    const link = await waitForLoginLink(server, "admin@localhost", before);
    await page.goto(link);
    await page.waitForURL(`${server.baseUrl}${DEV_ENV_PATH}/runs`);
    await page.getByRole("heading", { name: "Runs" }).waitFor();
    await expect.poll(() => page.locator("tbody tr").count(), { timeout: 10_000 }).toBe(6);
    await page.screenshot({ path: "/tmp/runplane-runs.png", fullPage: true });

    // A run triggered now shows up without reloading the page (the list refreshes every 5 s).
    const fresh = await driver.trigger(driver.dev, { taskIdentifier: "send-email", tags: ["late"] });
    await page.getByRole("link", { name: fresh.friendlyId }).waitFor({ timeout: 15_000 });

    // Filters are a plain GET form.
    await page.locator("details.multi-select summary").click();
    await page.getByLabel("Failed").check();
    await page.getByRole("button", { name: "Apply" }).click();
    await page.waitForURL(/statuses=FAILED/);
    await expect.poll(() => page.locator("tbody tr").count(), { timeout: 10_000 }).toBe(1);

    await page.getByRole("link", { name: failed }).click();
    await page.waitForURL(new RegExp(`/runs/${failed}$`));
    await page.getByText("Error: SMTP connection refused").waitFor();
    await page.getByText("Execution timeline").waitFor();
    await page.screenshot({ path: "/tmp/runplane-run.png", fullPage: true });

    // Cancel a queued run from its page (the form posts with the CSRF token).
    const queued = await driver.trigger(driver.dev, { taskIdentifier: "resize-image", queue: "images" });
    await page.goto(`${server.baseUrl}${DEV_ENV_PATH}/runs/${queued.friendlyId}`);
    await page.getByRole("button", { name: "Cancel run" }).click();
    await page.getByText("Run canceled.").waitFor();
    await page.locator(".page-header .badge", { hasText: "Canceled" }).waitFor();
    expect((await driver.store.findRun({ friendlyId: queued.friendlyId }))?.status).toBe("CANCELED");

    await page.goto(`${server.baseUrl}${DEV_ENV_PATH}/queues`);
    await page.getByText("images").first().waitFor();
    await page.screenshot({ path: "/tmp/runplane-queues.png", fullPage: true });

    await page.goto(`${server.baseUrl}/admin/runs/${fresh.friendlyId}`);
    await page.getByText("Redis keys").waitFor();
    await page.screenshot({ path: "/tmp/runplane-admin-debug.png", fullPage: true });

    expect(problems.join("\n")).toBe("");
    await page.close();
  },
  120_000
);

it.skipIf(!browserTestsEnabled)("pages work without JavaScript (server-rendered forms)", async () => {
  const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${server.baseUrl}/login`);
  const before = server.output().stdout.length;
  await page.fill('input[name="email"]', "admin@localhost");
  await page.click('button[type="submit"]');
  await page.getByText("Check the server log").waitFor();
  await page.goto(await waitForLoginLink(server, "admin@localhost", before));
  await page.getByRole("heading", { name: "Runs" }).waitFor();
  const queued = await driver.trigger(driver.dev, { taskIdentifier: "send-email" });
  await page.goto(`${server.baseUrl}${DEV_ENV_PATH}/runs/${queued.friendlyId}`);
  await page.getByRole("button", { name: "Cancel run" }).click();
  await page.getByText("Run canceled.").waitFor();
  expect((await driver.store.findRun({ friendlyId: queued.friendlyId }))?.status).toBe("CANCELED");
  await page.getByRole("button", { name: "Log out" }).click();
  await page.waitForURL(/\/login$/);
  await context.close();
}, 60_000);
