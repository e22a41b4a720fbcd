import { createRunOpsClient } from "@internal/run-ops-database";

/**
 * What a run-ops database holds, as seen by a server with split mode OFF:
 *   - `empty`: no TaskRun rows (or the tables were never created): nothing is stranded;
 *   - `has_runs`: at least one run that only split mode can read (`runCount` is capped at `cap`);
 *   - `unreachable`: the probe failed, so nothing can be said.
 */
export type RunOpsResidue =
  | { state: "empty"; migrated: boolean }
  | { state: "has_runs"; runCount: number; capped: boolean; newestRunAt: Date | null }
  | { state: "unreachable"; error: string };

const UNDEFINED_TABLE = "42P01";

/** Counts (up to `cap`) the runs stored in a run-ops database. Never throws. */
export async function probeRunOpsResidue(runOpsDatabaseUrl: string, options: { cap?: number; timeoutMs?: number } = {}): Promise<RunOpsResidue> {
  const cap = options.cap ?? 1_000;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const client = createRunOpsClient({ connectionString: withConnectTimeout(runOpsDatabaseUrl, timeoutMs), max: 1, applicationName: "runplane-split-off-probe" });
  try {
    const probe = (async () => {
      const rows = await client.$queryRawUnsafe<{ n: number; newest: Date | null }[]>(
        `SELECT count(*)::int AS n, max("createdAt") AS newest FROM (SELECT "createdAt" FROM "TaskRun" LIMIT ${cap + 1}) AS sample`
      );
      return rows[0];
    })();
    const { n, newest } = await withTimeout(probe, timeoutMs);
    if (n === 0) return { state: "empty", migrated: true };
    return { state: "has_runs", runCount: Math.min(n, cap), capped: n > cap, newestRunAt: newest };
  } catch (error) {
    if (isUndefinedTable(error)) return { state: "empty", migrated: false };
    return { state: "unreachable", error: error instanceof Error ? error.message : String(error) };
  } finally {
    await client.$disconnect().catch(() => {});
  }
}

function withConnectTimeout(url: string, timeoutMs: number): string {
  try {
    const parsed = new URL(url);
    if (!parsed.searchParams.has("connect_timeout")) parsed.searchParams.set("connect_timeout", String(Math.max(1, Math.ceil(timeoutMs / 1000))));
    return parsed.toString();
  } catch {
    return url;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function isUndefinedTable(error: unknown): boolean {
  const text = JSON.stringify((error as { meta?: unknown })?.meta ?? {}) + String((error as { message?: unknown })?.message ?? "");
  return text.includes(UNDEFINED_TABLE) || /relation "TaskRun" does not exist/i.test(text);
}
