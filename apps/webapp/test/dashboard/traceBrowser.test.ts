import { existsSync } from "node:fs";
import { logger, task, wait } from "@runplane/worker";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/testServer";
import { createHarness, FINAL_STATUSES, type Harness } from "../worker/support/harness";
import { DEV_ENV_PATH, loginAs } from "./helpers";

const CHROMIUM = "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);

let server: TestServer;
let h: Harness;
let browser: Browser;
const problems: string[] = [];

beforeAll(async () => {
  if (!hasChromium) return;
  server = await startTestServer();
  h = await createHarness(server, false);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--headless", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await h?.close();
  await server?.stop();
}, 60_000);

async function openAs(path: string): Promise<Page> {
  const { cookie } = await loginAs(server, "admin@localhost");
  const [name, value] = cookie.split("=") as [string, string];
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  await context.addCookies([{ name, value, url: server.baseUrl }]);
  const page = await context.newPage();
  page.on("pageerror", (error) => problems.push(`pageerror on ${page.url()}: ${error.message}`));
  await page.goto(`${server.baseUrl}${path}`);
  return page;
}

/** The first tree row with this name (depth first: the parent run's rows come before its child run's). */
const row = (page: Page, name: string) => page.locator(".trace-row", { has: page.locator(".trace-label", { hasText: new RegExp(`^${name}$`) }) }).first();

it.skipIf(!hasChromium)(
  "the run page shows the trace live: attempts, the wait, the child run link, log lines with level and text filters, and the failed attempt's stack",
  async () => {
    const child = task({ id: "page-child", run: async () => (logger.info("child working"), { ok: true }) });
    const parent = task({
      id: "page-parent",
      retry: { maxAttempts: 2, minTimeoutInMs: 100, maxTimeoutInMs: 200, factor: 1 },
      run: async (_payload: unknown, { ctx }) => {
        logger.info("parent says hello");
        console.log("a console line from attempt %d", ctx.attempt.number);
        if (ctx.attempt.number === 1) throw new Error("first attempt fails");
        await child.triggerAndWait({});
        logger.warn("child finished");
        await wait.for({ seconds: 2 });
        return { done: true };
      },
    });
    await h.startWorker({ tasks: [parent, child], localWaitThresholdMs: 0 });
    const runId = await h.trigger("page-parent", {});

    // Opened while the run executes: the trace fills in without a reload.
    const page = await openAs(`${DEV_ENV_PATH}/runs/${runId}`);
    const trace = page.getByTestId("run-trace");
    await row(page, "Attempt 1").waitFor();
    await row(page, "Wait 2s").waitFor({ timeout: 20_000 });
    await h.waitForStatus(runId, FINAL_STATUSES, 30_000);
    await expect.poll(() => trace.locator(".card-header .faint").first().textContent(), { timeout: 10_000 }).not.toContain("live");

    await row(page, "Attempt 2").waitFor();
    expect(await row(page, "Attempt 1").getAttribute("class")).toContain("error");
    const childLink = trace.locator("a.trace-run-link");
    await expect(childLink.count()).resolves.toBe(1);
    const childRunId = (await childLink.textContent())!;
    expect(await childLink.getAttribute("href")).toBe(`${DEV_ENV_PATH}/runs/${childRunId}`);

    const logs = page.getByTestId("run-logs");
    for (const line of ["parent says hello", "a console line from attempt 1", "a console line from attempt 2", "child finished", "child working"]) {
      await logs.getByText(line).first().waitFor();
    }

    // Collapse the child run's subtree, expand it again.
    const childRow = row(page, "page-child");
    const expanded = await page.locator(".trace-row").count();
    await childRow.locator(".trace-toggle").click();
    await expect.poll(() => page.locator(".trace-row").count()).toBeLessThan(expanded);
    await childRow.locator(".trace-toggle").click();
    await expect.poll(() => page.locator(".trace-row").count()).toBe(expanded);

    // The failed attempt's stack.
    await row(page, "Attempt 1").locator(".trace-label").click();
    await page.getByTestId("span-detail").getByText("first attempt fails").first().waitFor();
    await page.screenshot({ path: "/tmp/runplane-trace.png", fullPage: true });
    expect(await page.locator(".trace-stack").textContent()).toContain("traceBrowser.test.ts");

    // Level filter, then text filter.
    await page.selectOption('select[name="level"]', "warn");
    await page.click(".trace-filter button[type=submit]");
    await expect.poll(() => logs.locator("tr").count(), { timeout: 10_000 }).toBe(1);
    expect(await logs.textContent()).toContain("child finished");
    await page.selectOption('select[name="level"]', "");
    await page.fill('input[name="q"]', "console line");
    await page.click(".trace-filter button[type=submit]");
    await expect.poll(() => logs.locator("tr").count(), { timeout: 10_000 }).toBe(2);

    // A run with 10,000 log lines: the page shows the count and pages through the lines.
    const lines = Array.from({ length: 10_000 }, (_, i) => `bulk line ${i}`);
    for (let i = 0; i < lines.length; i += 2_000) {
      const res = await fetch(`${server.baseUrl}/otel/v1/logs`, {
        method: "POST",
        headers: { authorization: `Bearer ${server.devSecretKey}`, "content-type": "application/json" },
        body: JSON.stringify({
          resourceLogs: [
            {
              resource: { attributes: [{ key: "ctx.run.id", value: { stringValue: childRunId } }] },
              scopeLogs: [{ logRecords: lines.slice(i, i + 2_000).map((m, j) => ({ timeUnixNano: String((BigInt(Date.now()) + BigInt(i + j)) * 1_000_000n), severityNumber: 9, body: { stringValue: m } })) }],
            },
          ],
        }),
      });
      expect(res.status).toBe(200);
    }
    const bulk = await openAs(`${DEV_ENV_PATH}/runs/${childRunId}`);
    await bulk.getByTestId("run-logs").waitFor();
    expect(await bulk.getByTestId("run-trace").locator(".card-header .faint").first().textContent()).toContain("10001 log lines");
    expect(await bulk.getByTestId("run-logs").locator("tr").count()).toBe(200);
    await bulk.getByRole("button", { name: "Load more log lines" }).click();
    await expect.poll(() => bulk.getByTestId("run-logs").locator("tr").count(), { timeout: 10_000 }).toBe(400);

    expect(problems).toEqual([]);
  },
  120_000
);
