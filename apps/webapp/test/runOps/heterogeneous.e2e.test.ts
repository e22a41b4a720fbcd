import { classifyResidency } from "@runplane/core";
import { configure, wait } from "@trigger.dev/sdk";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api } from "../api/support/api";
import { startTestServer, type TestServer } from "../support/testServer";

// One split-mode server holding both id families: runs triggered while RUN_OPS_MINT_NEW_IDS was off
// (cuid, control-plane database) and after it was turned on (ksuid, run-ops database).

async function rowsIn(url: string, table: string, column: string, value: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query(`SELECT count(*)::int AS n FROM "${table}" WHERE "${column}" = $1`, [value]);
    return rows[0].n;
  } finally {
    await client.end();
  }
}

describe("split mode with legacy and NEW runs side by side", () => {
  let server: TestServer;
  let legacyRun: string;
  let newRun: string;

  const triggerDelayed = async () => {
    const res = await api(server, "POST", "/api/v1/tasks/hetero-task/trigger", { body: { payload: { x: 1 }, options: { delay: "1h" } } });
    expect(res.status).toBe(200);
    return res.body.id as string;
  };

  beforeAll(async () => {
    server = await startTestServer({ split: true, env: { RUN_OPS_MINT_NEW_IDS: "false" } });
    legacyRun = await triggerDelayed();
    await server.kill();
    await server.restart({ RUN_OPS_MINT_NEW_IDS: "true" });
    newRun = await triggerDelayed();
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
  });

  it("each run lives in the database its id shape names", async () => {
    expect(classifyResidency(legacyRun)).toBe("LEGACY");
    expect(classifyResidency(newRun)).toBe("NEW");
    expect(await rowsIn(server.databaseUrl, "TaskRun", "friendlyId", legacyRun)).toBe(1);
    expect(await rowsIn(server.runOpsDatabaseUrl!, "TaskRun", "friendlyId", legacyRun)).toBe(0);
    expect(await rowsIn(server.runOpsDatabaseUrl!, "TaskRun", "friendlyId", newRun)).toBe(1);
    expect(await rowsIn(server.databaseUrl, "TaskRun", "friendlyId", newRun)).toBe(0);
  });

  it("both are retrievable, replayable and cancellable through the API", async () => {
    for (const id of [legacyRun, newRun]) {
      const retrieved = await api(server, "GET", `/api/v3/runs/${id}`);
      expect(retrieved.status).toBe(200);
      expect(retrieved.body).toMatchObject({ id, status: "DELAYED" });

      const replayed = await api(server, "POST", `/api/v1/runs/${id}/replay`, { body: {} });
      expect(replayed.status).toBe(200);
      expect(replayed.body.id).toMatch(/^run_/);
      // a replay is a new root run: it follows today's policy (NEW), whatever the original's family
      expect(classifyResidency(replayed.body.id)).toBe("NEW");

      const cancelled = await api(server, "POST", `/api/v2/runs/${id}/cancel`);
      expect(cancelled.status).toBe(200);
      const after = await api(server, "GET", `/api/v3/runs/${id}`);
      expect(after.body.status).toBe("CANCELED");
    }
    // the production key never sees either
    for (const id of [legacyRun, newRun]) {
      expect((await api(server, "GET", `/api/v3/runs/${id}`, { key: server.prodSecretKey })).status).toBe(404);
    }
  });

  it("run-owned tokens live beside their run, standalone ones on the control plane; each completes via the SDK and via the callback URL", async () => {
    configure({ baseURL: server.baseUrl, accessToken: server.devSecretKey });
    const runOwned = async () => {
      const res = await api(server, "POST", "/api/v1/waitpoints/tokens", { body: { ownerRunId: newRun } });
      expect(res.status).toBe(200);
      return res.body as { id: string; url: string };
    };
    const standalone = async () => (await api(server, "POST", "/api/v1/waitpoints/tokens", { body: {} })).body as { id: string; url: string };
    const ownedViaSdk = await runOwned();
    const ownedViaUrl = await runOwned();
    const loneViaSdk = await standalone();
    const loneViaUrl = await standalone();
    for (const token of [ownedViaSdk, ownedViaUrl]) {
      expect(await rowsIn(server.runOpsDatabaseUrl!, "Waitpoint", "friendlyId", token.id)).toBe(1);
      expect(await rowsIn(server.databaseUrl, "Waitpoint", "friendlyId", token.id)).toBe(0);
    }
    for (const token of [loneViaSdk, loneViaUrl]) {
      expect(await rowsIn(server.databaseUrl, "Waitpoint", "friendlyId", token.id)).toBe(1);
      expect(await rowsIn(server.runOpsDatabaseUrl!, "Waitpoint", "friendlyId", token.id)).toBe(0);
    }
    for (const token of [ownedViaSdk, loneViaSdk]) await wait.completeToken(token.id, { by: "sdk" });
    for (const token of [ownedViaUrl, loneViaUrl]) {
      const hook = await fetch(token.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ by: "url" }) });
      expect(hook.status).toBe(200);
    }
    for (const token of [ownedViaSdk, ownedViaUrl, loneViaSdk, loneViaUrl]) {
      const retrieved = await wait.retrieveToken(token.id);
      expect(retrieved.status).toBe("COMPLETED");
    }
    // an owner run of another environment is refused (404, never leaking it), and nothing is written
    const prodTokens = () => api(server, "GET", "/api/v1/waitpoints/tokens", { key: server.prodSecretKey });
    const before = (await prodTokens()).body.data.length;
    const foreign = await api(server, "POST", "/api/v1/waitpoints/tokens", { key: server.prodSecretKey, body: { ownerRunId: newRun } });
    expect(foreign.status).toBe(404);
    expect(foreign.body.error).toMatch(/ownerRunId/);
    expect((await prodTokens()).body.data.length).toBe(before);
  });

  it("standalone wait tokens live on the control plane and complete via the API and the callback URL", async () => {
    const viaApi = await api(server, "POST", "/api/v1/waitpoints/tokens", { body: {} });
    const viaUrl = await api(server, "POST", "/api/v1/waitpoints/tokens", { body: {} });
    expect(viaApi.status).toBe(200);
    expect(viaUrl.status).toBe(200);
    for (const token of [viaApi.body.id, viaUrl.body.id]) {
      expect(await rowsIn(server.databaseUrl, "Waitpoint", "friendlyId", token)).toBe(1);
      expect(await rowsIn(server.runOpsDatabaseUrl!, "Waitpoint", "friendlyId", token)).toBe(0);
    }
    const completed = await api(server, "POST", `/api/v1/waitpoints/tokens/${viaApi.body.id}/complete`, { body: { data: { ok: 1 } } });
    expect(completed.status).toBe(200);
    const hook = await fetch(viaUrl.body.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ ok: 2 }) });
    expect(hook.status).toBe(200);
    for (const token of [viaApi.body.id, viaUrl.body.id]) {
      const retrieved = await api(server, "GET", `/api/v1/waitpoints/tokens/${token}`);
      expect(retrieved.body.status).toBe("COMPLETED");
    }
  });
});
