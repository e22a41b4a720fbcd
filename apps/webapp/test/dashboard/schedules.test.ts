import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { api, waitFor } from "../api/support/api";
import { makeDue, registerVersion, scheduleState, waitForTickRun } from "../api/support/schedules";
import { startTestServer, type TestServer } from "../support/testServer";
import { createOrganization, csrfFrom, DEV_ENV_PATH, engineFor, get, loginAs, post } from "./helpers";

const PAGE = `${DEV_ENV_PATH}/schedules`;

/** The schedules page: list with cron in words and next times, imperative edits, read-only declarative rows, access. */
describe("dashboard schedules page", () => {
  let server: TestServer;
  let admin: string;
  let bob: string;

  beforeAll(async () => {
    server = await startTestServer({ env: { SCHEDULER_INTERVAL_MS: "100" } });
    expect((await registerVersion(server, "1", [{ id: "report" }, { id: "nightly", schedule: { cron: "0 1 * * *", timezone: "Europe/London" } }])).status).toBe(200);
    const driver = await engineFor(server);
    await createOrganization(driver.cp, "acme", ["bob@example.com"]);
    await driver.close();
    admin = (await loginAs(server, "admin@localhost")).cookie;
    bob = (await loginAs(server, "bob@example.com")).cookie;
  }, 120_000);
  afterAll(async () => void (await server?.stop()), 60_000);

  const page = async () => {
    const res = await get(server, PAGE, admin);
    expect(res.status).toBe(200);
    return res.text();
  };
  const act = async (fields: Record<string, string>, cookie = admin) => {
    const csrf = csrfFrom(await (await get(server, PAGE, cookie)).text());
    const res = await post(server, PAGE, cookie, { ...fields, csrf });
    return { status: res.status, body: await res.text() };
  };
  const rowOf = (html: string, id: string) => {
    const start = html.indexOf(`<span class="mono">${id}</span>`);
    expect(start, `row of ${id}`).toBeGreaterThan(-1);
    return html.slice(start, html.indexOf("</tr>", start));
  };
  const imperative = async () => (await api(server, "GET", "/api/v1/schedules?perPage=100")).body.data.filter((s: any) => s.type === "IMPERATIVE");

  test("declarative schedules are listed read-only with the cron in words and the next five times", async () => {
    const html = await page();
    const [declarative] = (await api(server, "GET", "/api/v1/schedules")).body.data;
    const row = rowOf(html, declarative.id);
    expect(row).toContain("At 01:00");
    expect(row).toContain("Europe/London");
    expect(row.match(/<time /g)).toHaveLength(5);
    expect(row).toContain("declarative");
    expect(row).not.toContain('value="delete"');

    const refused = await act({ intent: "delete", id: declarative.id });
    expect(refused.status).toBe(422);
    expect(refused.body).toContain("declarative");
    expect((await api(server, "GET", `/api/v1/schedules/${declarative.id}`)).status).toBe(200);
  });

  test("create, edit, deactivate, activate and delete an imperative schedule; it links to its runs", async () => {
    const bad = await act({ intent: "create", task: "report", cron: "not a cron", timezone: "UTC" });
    expect(bad.status).toBe(400);
    expect(bad.body).toContain("cron:");
    expect(await imperative()).toEqual([]);

    const created = await act({ intent: "create", task: "report", cron: "*/5 * * * *", timezone: "America/New_York", externalId: "acct-1" });
    expect(created.status).toBe(200);
    const [schedule] = await imperative();
    expect(schedule).toMatchObject({ task: "report", timezone: "America/New_York", externalId: "acct-1", active: true });
    let row = rowOf(await page(), schedule.id);
    expect(row).toContain("Every 5 minutes");
    expect(row).toContain("Active");
    expect(row.match(/<time /g)).toHaveLength(5);

    const edit = await get(server, `${PAGE}?edit=${schedule.id}`, admin);
    expect(await edit.text()).toContain(`Edit ${schedule.id}`);
    expect((await act({ intent: "update", id: schedule.id, task: "report", cron: "0 9 * * 1", timezone: "America/New_York", externalId: "acct-1" })).status).toBe(200);
    row = rowOf(await page(), schedule.id);
    expect(row).toMatch(/At 09:00, only on Monday/);

    expect((await act({ intent: "deactivate", id: schedule.id })).status).toBe(200);
    row = rowOf(await page(), schedule.id);
    expect(row).toContain("Inactive");
    expect(row).not.toContain("<time ");
    expect((await act({ intent: "activate", id: schedule.id })).status).toBe(200);
    expect(rowOf(await page(), schedule.id)).toContain("Active");

    // Its runs: the last run and a filtered runs list.
    await makeDue(server, schedule.id, new Date(Date.now() - 8 * 24 * 3_600_000));
    const runId = await waitForTickRun(server, schedule.id);
    row = rowOf(await page(), schedule.id);
    expect(row).toContain(runId);
    const runsHref = /href="([^"]*schedule=[^"]+)"/.exec(row)![1]!.replace(/&amp;/g, "&");
    const runsPage = await (await get(server, runsHref, admin)).text();
    expect(runsPage).toContain(runId);

    expect((await act({ intent: "delete", id: schedule.id })).status).toBe(200);
    await waitFor(async () => !(await scheduleState(server, schedule.id)), 5_000, "deleted");
    expect(await page()).not.toContain(schedule.id);
  });

  test("a non-member gets 404, and a post without the CSRF token is refused", async () => {
    expect((await get(server, PAGE, bob)).status).toBe(404);
    const noCsrf = await post(server, PAGE, admin, { intent: "create", task: "report", cron: "* * * * *" });
    expect(noCsrf.status).toBe(403);
    expect(await imperative()).toEqual([]);
  });
});
