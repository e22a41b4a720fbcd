import pg from "pg";
import type { TestServer } from "../../support/testServer";

export type ApiResponse<T = any> = { status: number; headers: Headers; body: T; text: string };

/** One HTTP call to the test server's API, with the dev key unless told otherwise (`key: null` sends none). */
export async function api<T = any>(
  server: TestServer,
  method: string,
  path: string,
  options: { key?: string | null; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {}
): Promise<ApiResponse<T>> {
  const key = options.key === undefined ? server.devSecretKey : options.key;
  const headers: Record<string, string> = { "content-type": "application/json", ...options.headers };
  if (key !== null) headers.authorization = `Bearer ${key}`;
  const res = await fetch(`${server.baseUrl}${path}`, {
    method,
    headers,
    body: options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
  });
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, headers: res.headers, body, text };
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** Rows of a run table in every database of the server (both in split mode). */
export async function countRows(server: TestServer, table: "TaskRun" | "BatchTaskRun" | "Waitpoint"): Promise<number> {
  const urls = [server.databaseUrl, server.runOpsDatabaseUrl].filter((u): u is string => Boolean(u));
  let total = 0;
  for (const url of urls) total += Number((await query<{ n: string }>(url, `SELECT count(*)::text AS n FROM "${table}"`))[0]!.n);
  return total;
}

/** A run row by friendly id, from whichever database holds it. */
export async function runRow(server: TestServer, friendlyId: string): Promise<Record<string, any> | undefined> {
  const urls = [server.runOpsDatabaseUrl, server.databaseUrl].filter((u): u is string => Boolean(u));
  for (const url of urls) {
    const [row] = await query(url, `SELECT * FROM "TaskRun" WHERE "friendlyId" = $1`, [friendlyId]);
    if (row) return row;
  }
  return undefined;
}

export const MODES = [
  { mode: "single", split: false },
  { mode: "split", split: true },
] as const;

export async function waitFor<T>(fn: () => Promise<T | undefined | null | false>, timeoutMs = 15_000, label = "condition"): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
