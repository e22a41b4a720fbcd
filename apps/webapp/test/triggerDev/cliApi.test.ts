import { createControlPlaneClient, type ControlPlaneClient } from "@internal/database";
import { generateCuid } from "@runplane/core";
import { CreateBackgroundWorkerResponse, DevConfigResponseBody, DevDequeueResponseBody, GetProjectEnvResponse, WhoAmIResponseSchema } from "@trigger.dev/core/v3";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createHash, randomBytes } from "node:crypto";
import { CreateAuthorizationCodeResponseSchema, GetPersonalAccessTokenResponseSchema } from "@trigger.dev/core/v3";
import { createPersonalAccessToken, revokePersonalAccessToken } from "~/models/personalAccessTokens.server";
import { MODES } from "../api/support/api";
import { csrfFrom, get as getPage, loginAs, post as postForm } from "../dashboard/helpers";
import { startTestServer, type TestServer } from "../support/testServer";
import { projectRefOf, randomPat } from "./support";

/**
 * The CLI-facing routes without the CLI: personal access tokens and their refusals, the project
 * lookup, worker registration and dev config, each answer parsed with the published
 * @trigger.dev/core 4.8.3 schema the CLI uses.
 */
describe.each(MODES)("trigger.dev CLI API ($mode)", ({ split }) => {
  let server: TestServer;
  let prisma: ControlPlaneClient;
  let projectRef: string;
  const pat = randomPat();

  beforeAll(async () => {
    server = await startTestServer({ split, env: { BOOTSTRAP_ADMIN_PAT: pat } });
    prisma = createControlPlaneClient({ connectionString: server.databaseUrl, max: 2 });
    projectRef = projectRefOf(server);
  }, 120_000);
  afterAll(async () => {
    await prisma?.$disconnect();
    await server?.stop();
  }, 60_000);

  const get = (path: string, token: string) => fetch(`${server.baseUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
  const post = (path: string, token: string, body: unknown) =>
    fetch(`${server.baseUrl}${path}`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(body) });

  test("the boot banner prints the pinned admin token, and only its hash is stored", async () => {
    expect(server.output().stdout).toContain(pat);
    const rows = await prisma.personalAccessToken.findMany({ select: { tokenHash: true, obfuscated: true } });
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(pat);
  });

  test("whoami and the project's dev environment answer what the CLI parses", async () => {
    const whoami = WhoAmIResponseSchema.parse(await (await get(`/api/v2/whoami?projectRef=${projectRef}`, pat)).json());
    expect(whoami.project?.name).toBe("Default");
    const env = GetProjectEnvResponse.parse(await (await get(`/api/v1/projects/${projectRef}/dev`, pat)).json());
    expect(env).toMatchObject({ apiKey: server.devSecretKey, apiUrl: server.baseUrl });
    const prod = GetProjectEnvResponse.parse(await (await get(`/api/v1/projects/${projectRef}/prod`, pat)).json());
    expect(prod.apiKey).toBe(server.prodSecretKey);
  });

  test("a revoked, unknown or non-PAT credential gets 401 and nothing", async () => {
    const admin = await prisma.user.findFirstOrThrow({ where: { admin: true } });
    const created = await createPersonalAccessToken(prisma, { userId: admin.id, name: "to revoke" });
    expect((await get("/api/v2/whoami", created.token)).status).toBe(200);
    expect(await revokePersonalAccessToken(prisma, admin.id, created.summary.id)).toBe(true);

    for (const token of [created.token, randomPat(), server.devSecretKey]) {
      const response = await get(`/api/v1/projects/${projectRef}/dev`, token);
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ error: expect.any(String) });
    }
    expect((await fetch(`${server.baseUrl}/api/v2/whoami`)).status).toBe(401);
  });

  test("another organisation's project ref is a 404, for the PAT routes and for worker registration", async () => {
    const orgId = generateCuid();
    await prisma.organization.create({ data: { id: orgId, slug: `other-${orgId}`, title: "Other" } });
    const otherRef = `proj_other${orgId.slice(-10).replace(/[^a-z]/g, "x")}`;
    await prisma.project.create({ data: { id: generateCuid(), slug: "other", name: "Other", externalRef: otherRef, organizationId: orgId } });

    for (const response of [await get(`/api/v1/projects/${otherRef}/dev`, pat), await get(`/api/v2/whoami?projectRef=${otherRef}`, pat)]) {
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ error: "Project not found" });
    }
    const registered = await post(`/api/v1/projects/${otherRef}/background-workers`, server.devSecretKey, workerBody("hash-other"));
    expect(registered.status).toBe(404);
    expect(await prisma.backgroundWorker.count({ where: { contentHash: "hash-other" } })).toBe(0);
  });

  test("background-workers mints a version per build; the same build again is the same worker", async () => {
    const first = CreateBackgroundWorkerResponse.parse(await (await post(`/api/v1/projects/${projectRef}/background-workers`, server.devSecretKey, workerBody("hash-a"))).json());
    const again = CreateBackgroundWorkerResponse.parse(await (await post(`/api/v1/projects/${projectRef}/background-workers`, server.devSecretKey, workerBody("hash-a"))).json());
    const next = CreateBackgroundWorkerResponse.parse(await (await post(`/api/v1/projects/${projectRef}/background-workers`, server.devSecretKey, workerBody("hash-b"))).json());
    expect(first.id).toMatch(/^worker_/);
    expect(again).toEqual(first);
    expect(next.id).not.toBe(first.id);
    const [day, n] = first.version.split(".");
    expect(next.version).toBe(`${day}.${Number(n) + 1}`);

    const bad = await post(`/api/v1/projects/${projectRef}/background-workers`, server.devSecretKey, { localOnly: true, metadata: { tasks: "nope" } });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: expect.stringContaining("metadata") });
  });

  test("the settings page creates a token (shown once) that the CLI routes accept, and revokes it", async () => {
    const { cookie } = await loginAs(server, "admin@localhost");
    const page = await getPage(server, "/account/tokens", cookie);
    expect(page.status).toBe(200);
    const csrf = csrfFrom(await page.text());
    const created = await postForm(server, "/account/tokens", cookie, { csrf, intent: "create", name: "laptop" });
    const token = /tr_pat_[0-9A-Za-z]{40}/.exec(await created.text())?.[0];
    expect(token).toBeDefined();
    expect((await get("/api/v2/whoami", token!)).status).toBe(200);

    const listed = await (await getPage(server, "/account/tokens", cookie)).text();
    expect(listed).toContain("laptop");
    expect(listed).not.toContain(token!);
    const row = await prisma.personalAccessToken.findFirstOrThrow({ where: { name: "laptop" } });
    await postForm(server, "/account/tokens", cookie, { csrf, intent: "revoke", id: row.id });
    expect((await get("/api/v2/whoami", token!)).status).toBe(401);

    // A post without the CSRF token changes nothing.
    expect((await postForm(server, "/account/tokens", cookie, { intent: "create", name: "no-csrf" })).status).toBe(403);
    expect(await prisma.personalAccessToken.count({ where: { name: "no-csrf" } })).toBe(0);
  });

  test("login codes: unapproved waits, a wrong verifier or approval code is refused, a used code cannot be reused", async () => {
    const verifier = randomBytes(32).toString("base64url");
    const challenge = createHash("sha256").update(verifier).digest("base64url");
    const created = CreateAuthorizationCodeResponseSchema.parse(
      await (await fetch(`${server.baseUrl}/api/v1/authorization-code`, { method: "POST", body: JSON.stringify({ codeChallenge: challenge, codeChallengeMethod: "S256" }) })).json()
    );
    expect(created.approval).toBe("paste");
    const exchange = (body: Record<string, string>) =>
      fetch(`${server.baseUrl}/api/v1/token`, { method: "POST", body: JSON.stringify({ authorizationCode: created.authorizationCode, ...body }) });
    expect(GetPersonalAccessTokenResponseSchema.parse(await (await exchange({ codeVerifier: verifier })).json()).token).toBeNull();

    const { cookie } = await loginAs(server, "admin@localhost");
    const page = await getPage(server, new URL(created.url).pathname, cookie);
    const approved = await postForm(server, new URL(created.url).pathname, cookie, { csrf: csrfFrom(await page.text()) });
    const approvalCode = /trigger\.dev login --code ([A-Z0-9-]+)/.exec(await approved.text())?.[1];
    expect(approvalCode).toBeDefined();

    expect((await exchange({ codeVerifier: randomBytes(32).toString("base64url"), approvalCode: approvalCode! })).status).toBe(400);
    expect((await exchange({ codeVerifier: verifier, approvalCode: "WRNG-CODE-HERE" })).status).toBe(400);
    const ok = GetPersonalAccessTokenResponseSchema.parse(await (await exchange({ codeVerifier: verifier, approvalCode: approvalCode! })).json());
    expect(ok.token?.token).toMatch(/^tr_pat_/);
    expect((await get("/api/v2/whoami", ok.token!.token)).status).toBe(200);
    expect((await exchange({ codeVerifier: verifier, approvalCode: approvalCode! })).status).toBe(400);
  });

  test("in-task waits refuse a run that is not executing (422) or of another environment (404); disconnect cancels the CLI's runs", async () => {
    const triggered = await post("/api/v1/tasks/cli-api-task/trigger", server.devSecretKey, { payload: {} });
    const { id: runId } = (await triggered.json()) as { id: string };
    const inFuture = { date: new Date(Date.now() + 60_000).toISOString() };

    const notExecuting = await post(`/engine/v1/runs/${runId}/wait/duration`, server.devSecretKey, inFuture);
    expect(notExecuting.status).toBe(422);
    expect(await notExecuting.json()).toMatchObject({ error: expect.any(String) });
    expect((await post(`/engine/v1/runs/${runId}/wait/duration`, server.prodSecretKey, inFuture)).status).toBe(404);
    expect((await get(`/engine/v1/dev/runs/${runId}/snapshots/latest`, server.prodSecretKey)).status).toBe(404);
    expect((await post(`/engine/v1/runs/${runId}/wait/duration`, server.devSecretKey, { date: "soon" })).status).toBe(400);

    // Another environment's key cannot cancel it; the dev CLI's disconnect does.
    expect(await (await post("/engine/v1/dev/disconnect", server.prodSecretKey, { runFriendlyIds: [runId] })).json()).toEqual({ cancelled: 0 });
    expect(await (await post("/engine/v1/dev/disconnect", server.devSecretKey, { runFriendlyIds: [runId, "run_unknown", "nonsense"] })).json()).toEqual({ cancelled: 1 });
    const latest = (await (await get(`/engine/v1/dev/runs/${runId}/snapshots/latest`, server.devSecretKey)).json()) as {
      execution: { snapshot: { executionStatus: string }; run: { status: string } };
    };
    expect(latest.execution.snapshot.executionStatus).toBe("FINISHED");
    expect(latest.execution.run.status).toBe("CANCELED");
  });

  test("dev config and an empty dequeue parse with the CLI's schemas; a bad dequeue body is a 400", async () => {
    const config = DevConfigResponseBody.parse(await (await get("/engine/v1/dev/config", server.devSecretKey)).json());
    expect(config.engineUrl).toBe(server.baseUrl);
    const empty = DevDequeueResponseBody.parse(await (await post("/engine/v1/dev/dequeue", server.devSecretKey, { currentWorker: "worker_unknown", oldWorkers: [] })).json());
    expect(empty.dequeuedMessages).toEqual([]);
    const bad = await post("/engine/v1/dev/dequeue", server.devSecretKey, { oldWorkers: [] });
    expect(bad.status).toBe(400);
    expect((await get("/engine/v1/dev/config", pat)).status).toBe(401);
  });
});

function workerBody(contentHash: string) {
  return {
    localOnly: true,
    metadata: {
      packageVersion: "4.8.3",
      contentHash,
      tasks: [{ id: "cli-api-task", filePath: "src/trigger/a.ts", exportName: "a", retry: { maxAttempts: 2 } }],
    },
    engine: "V2",
    supportsLazyAttempts: true,
  };
}
