/**
 * `pnpm bench:scheduler` — how fast one scheduler drains a minute where many schedules are due at once.
 *
 * A real production server (fresh databases, its own Redis prefix; mollifier off) gets BENCH_SCHEDULES
 * imperative schedules (`* * * * *`) through the API; one SQL statement then makes all of them due now
 * (as the start of a minute does), and the bench polls until every schedule has fired its run. Reports
 * ticks fired per second and the lag of the last one (fire time − tick time). Each tick is a run row +
 * snapshot + queue entry through the normal trigger path (no worker runs them).
 *
 * Knobs: BENCH_SCHEDULES (1000), BENCH_SPLIT=1 (split mode), BENCH_POOL (20), BENCH_ROUNDS (3).
 */
import { formatTable, writeResultsJson } from "@runplane/bench-kit";
import pg from "pg";
import { buildServer, startTestServer, type TestServer } from "../test/support/serverProcess";

const num = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback);
const SCHEDULES = num("BENCH_SCHEDULES", 1_000);
const ROUNDS = num("BENCH_ROUNDS", 3);
const SPLIT = process.env.BENCH_SPLIT === "1";

type Round = { round: number; schedules: number; elapsedMs: number; ticksPerSec: number; lastLagMs: number };

async function call(server: TestServer, method: string, path: string, body: unknown): Promise<any> {
  const res = await fetch(`${server.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${server.devSecretKey}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${await res.text()}`);
  return res.json();
}

async function createSchedules(server: TestServer): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < SCHEDULES) {
      next++;
      await call(server, "POST", "/api/v1/schedules", { task: "bench-tick", cron: "* * * * *" });
    }
  };
  await Promise.all(Array.from({ length: 20 }, lane));
}

async function main(): Promise<void> {
  console.log(`building the server…`);
  buildServer();
  const server = await startTestServer({
    split: SPLIT,
    env: { MOLLIFIER_ENABLED: "false", SCHEDULER_INTERVAL_MS: "50", DATABASE_POOL_SIZE: String(num("BENCH_POOL", 20)), LOG_LEVEL: "error" },
  });
  const db = new pg.Client({ connectionString: server.databaseUrl });
  await db.connect();
  try {
    await call(server, "POST", "/api/v1/worker/register", { version: "1", tasks: [{ id: "bench-tick" }] });
    await createSchedules(server);
    const rounds: Round[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      // A tick the schedules have not fired yet: the start of the current minute, after the previous round's.
      await db.query(`UPDATE "TaskSchedule" SET "nextTickAt" = date_trunc('minute', now() AT TIME ZONE 'UTC'), "lastRunFriendlyId" = NULL`);
      const startedAt = Date.now();
      for (;;) {
        const { rows } = await db.query<{ pending: string }>(`SELECT count(*) FILTER (WHERE "lastRunFriendlyId" IS NULL)::text AS pending FROM "TaskSchedule"`);
        if (rows[0]!.pending === "0") break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const elapsedMs = Date.now() - startedAt;
      const metrics = await fetch(`${server.baseUrl}/metrics`).then((r) => r.text());
      const lag = Number(/runplane_scheduler_lag_ms (\d+(?:\.\d+)?)/.exec(metrics)?.[1] ?? NaN);
      rounds.push({ round, schedules: SCHEDULES, elapsedMs, ticksPerSec: (SCHEDULES / elapsedMs) * 1000, lastLagMs: lag });
      console.log(`round ${round}: ${SCHEDULES} ticks in ${elapsedMs} ms`);
      // Next round needs a later minute, or every tick answers its earlier run.
      if (round < ROUNDS) await new Promise((r) => setTimeout(r, 60_000 - (Date.now() % 60_000) + 100));
    }
    console.log(
      formatTable<Round>(
        [
          { header: "round", value: (r) => r.round },
          { header: "schedules", value: (r) => r.schedules },
          { header: "drain ms", value: (r) => r.elapsedMs },
          { header: "ticks/s", value: (r) => r.ticksPerSec },
          { header: "last lag ms", value: (r) => r.lastLagMs },
        ],
        rounds
      )
    );
    console.log(`results: ${writeResultsJson("scheduler", { split: SPLIT, schedules: SCHEDULES, rounds })}`);
  } finally {
    await db.end();
    await server.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
