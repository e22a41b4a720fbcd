import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { waitFor } from "../api/support/api";
import { startTestServer, type TestServer } from "../support/testServer";
import { runDatabases } from "./support";
import { startWorkerProcess, type WorkerProcess } from "./workerProcess";

/**
 * Processes SIGKILLed mid-attempt: a worker (its runs are retried by the heartbeat monitor on another
 * worker) and the webapp (restarted; the worker's calls wait for it). Every run completes, and no run
 * executes more often than its attempts allow.
 */
describe("processes killed mid-attempt", () => {
  let server: TestServer | undefined;
  const workers: WorkerProcess[] = [];
  let dir: string;
  let executionLog: string;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "runplane-faults-"));
    executionLog = path.join(dir, "executions.log");
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.kill()));
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** "<run id> <attempt>" lines the task wrote, per run. */
  function executions(): Map<string, number> {
    const counts = new Map<string, number>();
    if (!existsSync(executionLog)) return counts;
    for (const line of readFileSync(executionLog, "utf8").split("\n").filter(Boolean)) {
      const runId = line.split(" ")[0]!;
      counts.set(runId, (counts.get(runId) ?? 0) + 1);
    }
    return counts;
  }

  async function trigger(server: TestServer, count: number, ms: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const response = await fetch(`${server.baseUrl}/api/v1/tasks/recorded/trigger`, {
        method: "POST",
        headers: { authorization: `Bearer ${server.devSecretKey}`, "content-type": "application/json" },
        body: JSON.stringify({ payload: { ms } }),
      });
      expect(response.status).toBe(200);
      ids.push(((await response.json()) as { id: string }).id);
    }
    return ids;
  }

  async function runRows(server: TestServer, ids: string[]): Promise<Array<{ friendlyId: string; status: string; maxAttempts: number | null }>> {
    const rows: Array<{ friendlyId: string; status: string; maxAttempts: number | null }> = [];
    for (const url of runDatabases(server)) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        rows.push(...(await client.query(`SELECT "friendlyId", status, "maxAttempts" FROM "TaskRun" WHERE "friendlyId" = ANY($1)`, [ids])).rows);
      } finally {
        await client.end();
      }
    }
    return rows;
  }

  async function expectAllCompletedWithinAttempts(server: TestServer, ids: string[]) {
    const final = new Set(["COMPLETED_SUCCESSFULLY", "COMPLETED_WITH_ERRORS", "SYSTEM_FAILURE", "CRASHED", "CANCELED", "EXPIRED", "TIMED_OUT"]);
    let rows = await runRows(server, ids);
    const deadline = Date.now() + 120_000;
    while (!(rows.length === ids.length && rows.every((r) => final.has(r.status))) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      rows = await runRows(server, ids);
    }
    const diagnostics = workers.map((w) => w.output().slice(-3000)).join("\n---\n") + server.output().stderr.slice(-3000);
    expect(rows.filter((r) => r.status !== "COMPLETED_SUCCESSFULLY").map((r) => r.status), diagnostics).toEqual([]);
    const counts = executions();
    expect(rows.filter((r) => (counts.get(r.friendlyId) ?? 0) > (r.maxAttempts ?? 1)).map((r) => [r.friendlyId, counts.get(r.friendlyId)])).toEqual([]);
  }

  test("a worker SIGKILLed mid-attempt: restarted, it executes its retried runs and they complete", async () => {
    server = await startTestServer({ env: { RUN_ENGINE_HEARTBEAT_TIMEOUT_MS: "3000" } });
    const first = await startWorkerProcess(server, executionLog);
    workers.push(first);
    const ids = await trigger(server, 6, 30_000);
    await waitFor(async () => executions().size === 6, 60_000, "all six runs executing");
    await first.kill("SIGKILL");

    // the heartbeat monitor retries the six runs; the restarted worker executes them
    workers.push(await startWorkerProcess(server, executionLog));
    await expectAllCompletedWithinAttempts(server, ids);
    expect([...executions().values()].every((n) => n === 2)).toBe(true);
  }, 240_000);

  test("the webapp SIGKILLed mid-attempt and restarted: every run completes once", async () => {
    server = await startTestServer();
    workers.push(await startWorkerProcess(server, executionLog));
    const ids = await trigger(server, 6, 4_000);
    await waitFor(async () => executions().size === 6, 60_000, "all six runs executing");
    await server.kill();
    await server.restart();

    await expectAllCompletedWithinAttempts(server, ids);
    expect([...executions().values()].every((n) => n === 1)).toBe(true);
  }, 240_000);
});
