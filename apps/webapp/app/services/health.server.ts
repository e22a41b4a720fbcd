import type { Runtime } from "~/services/runtime.server";

/** One dependency check: resolves when healthy, throws (or times out) otherwise. */
export type HealthCheck = () => Promise<unknown>;

export type CheckResult =
  | { status: "ok"; latencyMs: number }
  | { status: "failed"; latencyMs: number; error: string }
  | { status: "skipped" };

export type HealthReport = { ok: boolean; checks: Record<string, CheckResult>; failing: string[] };

/** Runs every check in parallel, each bounded by `timeoutMs`; `null` marks a check as skipped. */
export async function runHealthChecks(checks: Record<string, HealthCheck | null>, timeoutMs = 2_000): Promise<HealthReport> {
  const names = Object.keys(checks);
  const results = await Promise.all(
    names.map(async (name): Promise<CheckResult> => {
      const check = checks[name];
      if (!check) return { status: "skipped" };
      const started = performance.now();
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          check(),
          new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs}ms`)), timeoutMs))),
        ]);
        return { status: "ok", latencyMs: Math.round(performance.now() - started) };
      } catch (error) {
        const message = error instanceof Error ? error.message || error.name : String(error);
        return { status: "failed", latencyMs: Math.round(performance.now() - started), error: message };
      } finally {
        clearTimeout(timer);
      }
    })
  );
  const report: Record<string, CheckResult> = {};
  names.forEach((name, i) => (report[name] = results[i]));
  const failing = names.filter((name) => report[name].status === "failed");
  return { ok: failing.length === 0, checks: report, failing };
}

/** The webapp's dependencies: control-plane database, run-ops database (when split), Redis. */
export function runtimeHealthChecks(runtime: Pick<Runtime, "prisma" | "runStore" | "redis">): Record<string, HealthCheck | null> {
  return {
    database: () => runtime.prisma.$queryRaw`SELECT 1`,
    runOpsDatabase: runtime.runStore.splitEnabled
      ? () => runtime.runStore.router.client("NEW").$queryRaw`SELECT 1`
      : null,
    redis: async () => {
      const reply = await runtime.redis.ping();
      if (reply !== "PONG") throw new Error(`unexpected PING reply ${reply}`);
    },
  };
}
