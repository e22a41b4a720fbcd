import pg from "pg";
import type { TestServer } from "../../support/testServer";
import { api, waitFor } from "./api";

async function controlPlane<T extends pg.QueryResultRow>(server: TestServer, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: server.databaseUrl });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** Registers a worker version over the worker protocol (dev key unless told otherwise). */
export async function registerVersion(server: TestServer, version: string, tasks: unknown[], key = server.devSecretKey) {
  return api(server, "POST", "/api/v1/worker/register", { key, body: { version, tasks } });
}

/**
 * Makes a schedule's next tick due now, as the stored state would be when its time comes (the
 * server's scheduler polls often in tests), instead of waiting for a real minute.
 */
export async function makeDue(server: TestServer, scheduleId: string, at: Date = new Date(Math.floor(Date.now() / 60_000) * 60_000)): Promise<Date> {
  await controlPlane(server, `UPDATE "TaskSchedule" SET "nextTickAt" = $2::timestamp WHERE "friendlyId" = $1`, [scheduleId, at.toISOString().slice(0, -1)]);
  return at;
}

export type ScheduleState = { lastRunFriendlyId: string | null; lastTickAt: string | null; nextTickAt: string | null; active: boolean };

export async function scheduleState(server: TestServer, scheduleId: string): Promise<ScheduleState | undefined> {
  const [row] = await controlPlane<ScheduleState>(
    server,
    `SELECT "lastRunFriendlyId", "lastTickAt"::text, "nextTickAt"::text, active FROM "TaskSchedule" WHERE "friendlyId" = $1`,
    [scheduleId]
  );
  return row;
}

/** Waits until the scheduler fired the schedule again (its last run is no longer `previousRunId`); the new run's id. */
export async function waitForTickRun(server: TestServer, scheduleId: string, previousRunId: string | null = null, timeoutMs = 20_000): Promise<string> {
  return waitFor(
    async () => {
      const state = await scheduleState(server, scheduleId);
      return state?.lastRunFriendlyId && state.lastRunFriendlyId !== previousRunId ? state.lastRunFriendlyId : undefined;
    },
    timeoutMs,
    `a run of ${scheduleId}`
  );
}

export async function workerVersionCount(server: TestServer): Promise<number> {
  const [row] = await controlPlane<{ n: string }>(server, `SELECT count(*)::text AS n FROM "BackgroundWorker"`);
  return Number(row!.n);
}

export async function runCountForTask(server: TestServer, taskIdentifier: string): Promise<number> {
  const urls = [server.databaseUrl, server.runOpsDatabaseUrl].filter((u): u is string => Boolean(u));
  let total = 0;
  for (const url of urls) {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query(`SELECT count(*)::text AS n FROM "TaskRun" WHERE "taskIdentifier" = $1`, [taskIdentifier]);
      total += Number(rows[0].n);
    } finally {
      await client.end();
    }
  }
  return total;
}
