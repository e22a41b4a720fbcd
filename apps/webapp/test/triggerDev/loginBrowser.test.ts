import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { waitForLoginLink } from "../dashboard/helpers";
import { startTestServer, type TestServer } from "../support/testServer";
import { spawnCli, type CliProcess } from "./support";

const CHROMIUM = "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);

let server: TestServer;
let browser: Browser;
let cli: CliProcess | undefined;
let bin: string;

beforeAll(async () => {
  if (!hasChromium) return;
  server = await startTestServer();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--headless", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  // The CLI "opens a browser" through xdg-open / $BROWSER: this one writes the URL down for Chromium.
  bin = mkdtempSync(path.join(tmpdir(), "runplane-open-"));
  const recorder = path.join(bin, "record-url");
  writeFileSync(recorder, `#!/bin/sh\n[ -z "$1" ] && exit 0\necho "$1" >> "${bin}/opened"\n`);
  chmodSync(recorder, 0o755);
  writeFileSync(path.join(bin, "xdg-open"), `#!/bin/sh\nexec "${recorder}" "$@"\n`);
  chmodSync(path.join(bin, "xdg-open"), 0o755);
}, 120_000);
afterAll(async () => {
  await cli?.stop();
  await browser?.close();
  await server?.stop();
  if (bin) rmSync(bin, { recursive: true, force: true });
});

it.skipIf(!hasChromium)(
  "trigger.dev login -a: Chromium signs in, approves the code, and the CLI stores a working token",
  async () => {
    cli = spawnCli(["login", "-a", server.baseUrl], {
      cwd: tmpdir(),
      env: { PATH: `${bin}:${process.env.PATH ?? ""}`, BROWSER: path.join(bin, "record-url"), CI: "" },
    });
    const deadline = Date.now() + 30_000;
    while (!existsSync(path.join(bin, "opened"))) {
      if (cli.child.exitCode !== null) throw new Error(`login exited ${cli.child.exitCode}:\n${cli.output()}`);
      if (Date.now() > deadline) throw new Error(`the CLI opened no URL:\n${cli.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const approvalUrl = readFileSync(path.join(bin, "opened"), "utf8").trim().split("\n")[0]!;
    expect(approvalUrl).toMatch(new RegExp(`^${server.baseUrl}/account/authorization-code/`));

    // Not signed in: the dashboard's magic-link sign-in first, then back to the approval page.
    const page = await browser.newPage();
    await page.goto(approvalUrl);
    await page.waitForURL(/\/login\?redirectTo=/);
    const before = server.output().stdout.length;
    await page.fill('input[name="email"]', "admin@localhost");
    await page.click('button[type="submit"]');
    await page.getByText("Check the server log").waitFor();
    await page.goto(await waitForLoginLink(server, "admin@localhost", before));
    await page.getByRole("heading", { name: "Approve CLI login" }).waitFor();
    await page.getByRole("button", { name: "Approve" }).click();
    // The approval code goes to the CLI's loopback callback, which answers this page.
    await page.getByText("login approved").waitFor();

    await cli.waitFor("Logged in successfully", 30_000);
    const profile = JSON.parse(readFileSync(path.join(cli.home, ".config/trigger/config.json"), "utf8")) as {
      profiles: Record<string, { accessToken: string; apiUrl: string }>;
    };
    const stored = profile.profiles.default!;
    expect(stored.apiUrl).toBe(server.baseUrl);
    expect(stored.accessToken).toMatch(/^tr_pat_/);
    const whoami = await fetch(`${server.baseUrl}/api/v2/whoami`, { headers: { authorization: `Bearer ${stored.accessToken}` } });
    expect(whoami.status).toBe(200);

    // The approval page cannot be used twice.
    await page.goto(approvalUrl);
    await page.getByText("expired or was already used").waitFor();
    await page.close();
  },
  90_000
);
