import pg from "pg";
import { afterAll, beforeAll, expect, test } from "vitest";
import { api, waitFor } from "../api/support/api";
import { startTestServer, type TestServer } from "../support/testServer";

/**
 * Offloaded packets follow the run events' retention: with EVENT_RETENTION_DAYS=1, a packet written two
 * days ago is deleted by the packet-retention loop and its download URL answers 404; a fresh one stays.
 */
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ split: false, env: { EVENT_RETENTION_DAYS: "1", EVENT_RETENTION_INTERVAL_MS: "1000" } });
}, 120_000);
afterAll(async () => void (await server?.stop()), 60_000);

async function upload(path: string, body: string): Promise<void> {
  const { body: answer } = await api(server, "PUT", `/api/v2/packets/${path}`);
  const put = await fetch(answer.presignedUrl, { method: "PUT", headers: { "content-type": "application/json" }, body });
  expect(put.status).toBeLessThan(300);
}

async function download(path: string): Promise<number> {
  const { body } = await api(server, "GET", `/api/v1/packets/${path}`);
  return (await fetch(body.presignedUrl)).status;
}

async function sql<T extends pg.QueryResultRow>(text: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: server.databaseUrl });
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}

test("a packet older than the retention is deleted; a recent one stays", async () => {
  await upload("old/payload.json", JSON.stringify({ old: "x".repeat(200_000) }));
  await upload("new/payload.json", JSON.stringify({ fresh: true }));
  expect(await download("old/payload.json")).toBe(200);
  await sql(`UPDATE "PacketChunk" SET "createdAt" = now() - interval '2 days' WHERE key LIKE '%/old/payload.json'`);

  await waitFor(async () => (await download("old/payload.json")) === 404, 20_000, "the old packet to expire");
  expect(await download("new/payload.json")).toBe(200);
  expect(await sql(`SELECT 1 FROM "PacketChunk" WHERE key LIKE '%/old/payload.json'`)).toEqual([]);
}, 60_000);
