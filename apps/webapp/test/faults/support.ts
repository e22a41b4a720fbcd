import pg from "pg";
import type { TestServer } from "../support/testServer";

/** What a load of triggers got back: the ids of accepted (200) triggers, and the count of everything else. */
export type TriggerTally = { accepted: string[]; refused: number; errors: string[] };

/**
 * Sends triggers from `concurrency` loops until `stop()`. `tally` fills as answers come: a trigger
 * counts as accepted only when the server answered 200 with an id — the promise the fault tests hold
 * the server to. Anything else (an error status, a dropped connection) counts as refused.
 */
export function startTriggerLoad(server: TestServer, concurrency: number): { tally: TriggerTally; stop(): Promise<TriggerTally> } {
  const tally: TriggerTally = { accepted: [], refused: 0, errors: [] };
  let stopped = false;
  let i = 0;
  const loops = Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (!stopped) {
        const n = i++;
        try {
          const response = await fetch(`${server.baseUrl}/api/v1/tasks/hello/trigger`, {
            method: "POST",
            headers: { authorization: `Bearer ${server.devSecretKey}`, "content-type": "application/json" },
            body: JSON.stringify({ payload: { n } }),
            signal: AbortSignal.timeout(30_000),
          });
          const text = await response.text();
          if (response.status === 200) tally.accepted.push((JSON.parse(text) as { id: string }).id);
          else {
            tally.refused++;
            if (tally.errors.length < 5) tally.errors.push(`${response.status} ${text.slice(0, 200)}`);
          }
        } catch (error) {
          tally.refused++;
          if (tally.errors.length < 5) tally.errors.push(String(error));
        }
      }
    })
  );
  return {
    tally,
    stop: async () => {
      stopped = true;
      await loops;
      return tally;
    },
  };
}

/** The databases holding a server's runs: its own, or those a test pointed it at. */
export function runDatabases(server: TestServer, overrides: { databaseUrl?: string; runOpsDatabaseUrl?: string } = {}): string[] {
  return [overrides.databaseUrl ?? server.databaseUrl, overrides.runOpsDatabaseUrl ?? server.runOpsDatabaseUrl].filter((u): u is string => Boolean(u));
}

/** How many run rows each friendly id has, across `databaseUrls`. */
export async function rowCounts(databaseUrls: string[], friendlyIds: string[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const url of databaseUrls) {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<{ friendlyId: string; n: string }>(
        `SELECT "friendlyId", count(*)::text AS n FROM "TaskRun" WHERE "friendlyId" = ANY($1) GROUP BY 1`,
        [friendlyIds]
      );
      for (const row of rows) counts.set(row.friendlyId, (counts.get(row.friendlyId) ?? 0) + Number(row.n));
    } finally {
      await client.end();
    }
  }
  return counts;
}

/** Polls until every id has a row (or the deadline passes), then returns the counts. */
export async function waitForRows(databaseUrls: string[], friendlyIds: string[], timeoutMs: number): Promise<Map<string, number>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const counts = await rowCounts(databaseUrls, friendlyIds).catch(() => new Map<string, number>());
    if (counts.size === new Set(friendlyIds).size || Date.now() > deadline) return counts;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The ids that do not have exactly one row. */
export function notExactlyOnce(friendlyIds: string[], counts: Map<string, number>): Array<{ id: string; rows: number }> {
  return [...new Set(friendlyIds)].map((id) => ({ id, rows: counts.get(id) ?? 0 })).filter((r) => r.rows !== 1);
}
