import type pg from "pg";

/**
 * Day partitions of the event tables: `"RunSpan_p20261206"` holds [2026-12-06, 2026-12-07) UTC.
 * Created on demand before the first insert of a day (any instance may race: "already exists" is
 * success), dropped whole by retention.
 */
export const EVENT_TABLES = ["RunSpan", "RunLog"] as const;
export type EventTable = (typeof EVENT_TABLES)[number];

const DAY_MS = 86_400_000;

export function dayOf(time: Date): number {
  return Math.floor(time.getTime() / DAY_MS);
}

export function partitionName(table: EventTable, day: number): string {
  return `${table}_p${new Date(day * DAY_MS).toISOString().slice(0, 10).replaceAll("-", "")}`;
}

/** The day a partition name covers, or null for a name that is not ours. */
export function partitionDay(table: EventTable, name: string): number | null {
  const match = new RegExp(`^${table}_p(\\d{4})(\\d{2})(\\d{2})$`).exec(name);
  if (!match) return null;
  return dayOf(new Date(`${match[1]}-${match[2]}-${match[3]}T00:00:00Z`));
}

const ALREADY_EXISTS = new Set(["42P07", "42710", "23505"]);

export async function createPartition(pool: pg.Pool, table: EventTable, day: number): Promise<void> {
  const from = new Date(day * DAY_MS).toISOString();
  const to = new Date((day + 1) * DAY_MS).toISOString();
  try {
    await pool.query(
      `CREATE TABLE IF NOT EXISTS "${partitionName(table, day)}" PARTITION OF "${table}" FOR VALUES FROM ('${from}') TO ('${to}')`
    );
  } catch (error) {
    if (!ALREADY_EXISTS.has((error as { code?: string }).code ?? "")) throw error;
  }
}

export async function listPartitions(pool: pg.Pool, table: EventTable): Promise<string[]> {
  const { rows } = await pool.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
     WHERE p.relname = $1`,
    [table]
  );
  return rows.map((r) => r.name);
}

/** Drops every partition whose whole day lies before `now - retentionDays`. */
export async function dropExpired(pool: pg.Pool, now: Date, retentionDays: number): Promise<string[]> {
  const oldestKept = dayOf(now) - retentionDays;
  const dropped: string[] = [];
  for (const table of EVENT_TABLES) {
    for (const name of await listPartitions(pool, table)) {
      const day = partitionDay(table, name);
      if (day === null || day >= oldestKept) continue;
      await pool.query(`DROP TABLE IF EXISTS "${name}"`);
      dropped.push(name);
    }
  }
  return dropped;
}
