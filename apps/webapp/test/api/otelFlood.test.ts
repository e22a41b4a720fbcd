import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../support/testServer";
import { api, MODES } from "./support/api";

const TOTAL = 200_000;
const PER_REQUEST = 2_000;
const SENDERS = 8;

/**
 * A flood of 200k log records for one run: the receiver stores every record it accepts (a full queue
 * answers 503 + Retry-After and the sender retries, as OTLP exporters do), while the API and
 * /healthcheck keep answering 200.
 */
describe.each(MODES)("OTLP flood ($mode)", ({ split }) => {
  let server: TestServer;

  beforeAll(async () => {
    // a small queue, so the flood meets the overload answer instead of buffering without bound
    server = await startTestServer({ split, env: { EVENT_INGEST_MAX_PENDING: "20000", EVENT_INGEST_BATCH_SIZE: "5000" } });
  }, 120_000);
  afterAll(async () => void (await server?.stop()), 60_000);

  test("200k log records: all accepted ones stored, the API and healthcheck stay 200", async () => {
    const runId = (await api(server, "POST", "/api/v1/tasks/flood/trigger", { body: { payload: {} } })).body.id as string;
    const statuses = new Map<number, number>();
    let next = 0;
    let flooding = true;

    async function sender(): Promise<void> {
      for (;;) {
        const start = next;
        next += PER_REQUEST;
        if (start >= TOTAL) return;
        const base = BigInt(Date.now()) * 1_000_000n;
        const body = JSON.stringify({
          resourceLogs: [
            {
              resource: { attributes: [{ key: "ctx.run.id", value: { stringValue: runId } }] },
              scopeLogs: [{ logRecords: Array.from({ length: PER_REQUEST }, (_, j) => ({ timeUnixNano: String(base + BigInt(j)), severityNumber: 9, body: { stringValue: `flood ${start + j}` } })) }],
            },
          ],
        });
        for (;;) {
          const res = await fetch(`${server.baseUrl}/otel/v1/logs`, {
            method: "POST",
            headers: { authorization: `Bearer ${server.devSecretKey}`, "content-type": "application/json" },
            body,
          });
          await res.arrayBuffer();
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (res.status === 200) break;
          expect([429, 503]).toContain(res.status);
          await new Promise((r) => setTimeout(r, Number(res.headers.get("retry-after") ?? 1) * 100));
        }
      }
    }

    const probes: Array<{ path: string; status: number }> = [];
    const prober = (async () => {
      while (flooding) {
        for (const path of ["/healthcheck", `/api/v3/runs/${runId}`]) {
          const res = await fetch(`${server.baseUrl}${path}`, { headers: { authorization: `Bearer ${server.devSecretKey}` } });
          await res.arrayBuffer();
          probes.push({ path, status: res.status });
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    await Promise.all(Array.from({ length: SENDERS }, sender));
    flooding = false;
    await prober;

    expect(probes.length).toBeGreaterThan(0);
    expect(probes.filter((p) => p.status !== 200)).toEqual([]);
    expect(statuses.get(200)).toBe(TOTAL / PER_REQUEST);
    const trace = await api(server, "GET", `/api/v1/runs/${runId}/trace?page[size]=10`);
    expect(trace.status).toBe(200);
    const { default: pg } = await import("pg");
    const client = new pg.Client({ connectionString: split ? server.runOpsDatabaseUrl : server.databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM "RunLog" WHERE "runId" = $1`, [runId]);
      expect(Number(rows[0]!.n)).toBe(TOTAL);
    } finally {
      await client.end();
    }
  }, 300_000);
});
