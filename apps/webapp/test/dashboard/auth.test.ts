import { createHash } from "node:crypto";
import { createControlPlaneClient, type ControlPlaneClient } from "@internal/database";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/testServer";
import { csrfFrom, DEV_ENV_PATH, get, loginAs, post, waitForLoginLink } from "./helpers";

let server: TestServer;
let cp: ControlPlaneClient;

beforeAll(async () => {
  server = await startTestServer();
  cp = createControlPlaneClient({ connectionString: server.databaseUrl, max: 2 });
});
afterAll(async () => {
  await cp?.$disconnect();
  await server?.stop();
});

describe("login by console link", () => {
  it("sends an anonymous visitor to /login and back where they were headed", async () => {
    const page = await get(server, `${DEV_ENV_PATH}/runs?period=24h`);
    expect(page.status).toBe(302);
    const location = page.headers.get("location")!;
    expect(location).toBe(`/login?redirectTo=${encodeURIComponent(`${DEV_ENV_PATH}/runs?period=24h`)}`);

    const form = await get(server, location);
    expect(form.status).toBe(200);
    expect(await form.text()).toContain("Send login link");

    const login = await loginAs(server, "admin@localhost", `${DEV_ENV_PATH}/runs?period=24h`);
    expect(login.link).toMatch(new RegExp(`^${server.baseUrl}/login/magic\\?token=[A-Za-z0-9_-]{40,}$`));
    expect(login.landing).toBe(`${DEV_ENV_PATH}/runs?period=24h`);
    const runs = await get(server, login.landing, login.cookie);
    expect(runs.status).toBe(200);
    expect(runs.headers.get("x-frame-options")).toBe("DENY");
    const html = await runs.text();
    expect(html).toContain("admin@localhost");
    expect(html).toContain("Runs");
  });

  it("prints the link to stdout whatever the log level, and the page says where to look", async () => {
    const before = server.output().stdout.length;
    const response = await fetch(`${server.baseUrl}/login`, { method: "POST", body: new URLSearchParams({ email: "Someone@Example.com" }) });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("Check the server log");
    const link = await waitForLoginLink(server, "someone@example.com", before);
    expect(link).toContain("/login/magic?token=");
  });

  it("links are single use, and a bad or reused token lands back on /login", async () => {
    const login = await loginAs(server, "admin@localhost");
    const again = await fetch(login.link, { redirect: "manual" });
    expect(again.status).toBe(302);
    expect(again.headers.get("location")).toBe("/login?error=link");
    expect(again.headers.get("set-cookie")).toBeNull();

    const forged = await get(server, "/login/magic?token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    expect(forged.headers.get("location")).toBe("/login?error=link");
  });

  it("never redirects off-site after login", async () => {
    for (const target of ["//evil.example/x", "https://evil.example/", "/\\evil.example"]) {
      const login = await loginAs(server, "admin@localhost", target);
      expect(login.landing).toBe("/");
    }
  });

  it("refuses malformed emails", async () => {
    const response = await fetch(`${server.baseUrl}/login`, { method: "POST", body: new URLSearchParams({ email: "not an email" }) });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("Enter a valid email address");
  });

  it("creates the account on first login; ADMIN_EMAILS decides who is admin", async () => {
    await loginAs(server, "newcomer@example.com");
    const user = await cp.user.findUniqueOrThrow({ where: { email: "newcomer@example.com" } });
    expect(user.admin).toBe(false);
    const admin = await cp.user.findUniqueOrThrow({ where: { email: "admin@localhost" } });
    expect(admin.admin).toBe(true);
  });
});

describe("sessions", () => {
  it("HttpOnly, SameSite=Lax, signed cookie; the database keeps only the token's hash", async () => {
    const before = server.output().stdout.length;
    await fetch(`${server.baseUrl}/login`, { method: "POST", body: new URLSearchParams({ email: "hash@example.com" }) });
    const link = await waitForLoginLink(server, "hash@example.com", before);
    const landing = await fetch(link, { redirect: "manual" });
    const setCookie = landing.headers.get("set-cookie")!;
    expect(setCookie).toMatch(/^__session=/);
    expect(setCookie).toContain("HttpOnly");
    expect(setCookie).toContain("SameSite=Lax");
    expect(setCookie).toContain("Path=/");

    // Remix signs `base64(JSON(token))` as `<value>.<signature>`.
    const value = decodeURIComponent(/__session=([^;]+)/.exec(setCookie)![1]);
    const token = JSON.parse(Buffer.from(value.slice(0, value.lastIndexOf(".")), "base64").toString("utf8")) as string;
    const user = await cp.user.findUniqueOrThrow({ where: { email: "hash@example.com" }, include: { sessions: true } });
    expect(user.sessions).toHaveLength(1);
    expect(user.sessions[0].tokenHash).toBe(createHash("sha256").update(token).digest("hex"));
    expect(JSON.stringify(user.sessions)).not.toContain(token);
  });

  it("a tampered or unknown cookie is no session", async () => {
    const { cookie } = await loginAs(server, "admin@localhost");
    const tampered = cookie.replace(/.$/, (c) => (c === "A" ? "B" : "A"));
    expect((await get(server, `${DEV_ENV_PATH}/runs`, tampered)).status).toBe(302);
    expect((await get(server, `${DEV_ENV_PATH}/runs`, "__session=nonsense")).status).toBe(302);
    expect((await get(server, `${DEV_ENV_PATH}/runs`, cookie)).status).toBe(200);
  });

  it("an expired session is refused", async () => {
    const { cookie } = await loginAs(server, "expired@example.com");
    const user = await cp.user.findUniqueOrThrow({ where: { email: "expired@example.com" } });
    await cp.userSession.updateMany({ where: { userId: user.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const page = await get(server, "/", cookie);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("Log in to the dashboard");
  });

  it("logout needs the CSRF token, then ends the session for good", async () => {
    const { cookie } = await loginAs(server, "admin@localhost");
    const runs = await get(server, `${DEV_ENV_PATH}/runs`, cookie);
    const csrf = csrfFrom(await runs.text());

    const refused = await post(server, "/logout", cookie, {});
    expect(refused.status).toBe(403);
    expect((await get(server, `${DEV_ENV_PATH}/runs`, cookie)).status).toBe(200);

    const out = await post(server, "/logout", cookie, { csrf });
    expect(out.status).toBe(302);
    expect(out.headers.get("location")).toBe("/login");
    expect(out.headers.get("set-cookie")).toMatch(/__session=;.*Max-Age=0/);
    // The old cookie is dead even if a client kept it.
    expect((await get(server, `${DEV_ENV_PATH}/runs`, cookie)).status).toBe(302);
  });

  it("a logged-in user with no organisation sees the status page, not a redirect loop", async () => {
    const { cookie } = await loginAs(server, "lonely@example.com");
    const home = await get(server, "/", cookie);
    expect(home.status).toBe(200);
    expect(await home.text()).toContain("not a member of any organisation");
  });
});
