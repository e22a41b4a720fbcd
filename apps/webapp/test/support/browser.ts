import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

/** Debian's Chromium, driven by playwright-core (scripts/test.sh installs it when missing). */
export const CHROMIUM = "/usr/bin/chromium";

/**
 * Whether browser tests run here. Without Chromium they skip on a developer's machine, but under
 * CI=true they run and fail: a browser test that silently skipped in CI would hide a broken page.
 */
export const browserTestsEnabled = existsSync(CHROMIUM) || process.env.CI === "true";

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM}: install Debian's chromium package (scripts/test.sh does it when run as root)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--headless", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
}
