import { RunOpsDataUnavailableError, probeRunOpsResidue, type RunOpsResidue } from "@internal/run-store";
import type { Env } from "~/env.server";
import type { Logger } from "~/services/logger.server";
import { SplitRefusedError } from "./errors.server";

/**
 * Split turned OFF after NEW (run-ops) runs exist. Those runs live only in the run-ops database, which
 * a split-off server never reads, so they would silently turn into 404s. The decision:
 *
 *   - boot probes RUN_OPS_DATABASE_URL (when set) and REFUSES to start while it holds runs;
 *   - RUN_OPS_ALLOW_SPLIT_OFF_WITH_RUNS=true starts anyway, logs an error-level warning, and every
 *     NEW-shaped id then answers 410 `run_ops_data_unavailable` instead of a 404;
 *   - a probe that fails (database down) does not block boot: the same 410 applies, with a warning;
 *   - with nothing stranded, a NEW-shaped id still reads the control-plane database, but is logged.
 */
export type SplitOffState =
  /** Split is on: nothing to guard. */
  | { residue: "not_applicable" }
  /** Split off and no runs are stranded (no run-ops URL, an empty or unmigrated run-ops database). */
  | { residue: "none"; probe?: RunOpsResidue }
  /** Split off and the run-ops database holds runs (boot was allowed by the override). */
  | { residue: "present"; probe: RunOpsResidue }
  /** Split off and the run-ops database could not be probed. */
  | { residue: "unknown"; probe: RunOpsResidue };

export type SplitOffEnv = Pick<Env, "RUN_OPS_SPLIT_ENABLED" | "RUN_OPS_DATABASE_URL" | "RUN_OPS_ALLOW_SPLIT_OFF_WITH_RUNS">;

export type ResidueProbe = (runOpsDatabaseUrl: string) => Promise<RunOpsResidue>;

export async function checkSplitOffResidue(
  env: SplitOffEnv,
  options: { logger?: Logger; probe?: ResidueProbe } = {}
): Promise<SplitOffState> {
  if (env.RUN_OPS_SPLIT_ENABLED) return { residue: "not_applicable" };
  if (!env.RUN_OPS_DATABASE_URL) return { residue: "none" };
  const probe = await (options.probe ?? ((url) => probeRunOpsResidue(url)))(env.RUN_OPS_DATABASE_URL);
  switch (probe.state) {
    case "empty":
      return { residue: "none", probe };
    case "unreachable":
      options.logger?.warn(
        "RUN_OPS_SPLIT_ENABLED is off and RUN_OPS_DATABASE_URL could not be probed for stranded runs; " +
          "run-ops ids will answer 410 until it can be read with split on",
        { error: probe.error }
      );
      return { residue: "unknown", probe };
    case "has_runs": {
      const count = `${probe.runCount}${probe.capped ? "+" : ""}`;
      if (!env.RUN_OPS_ALLOW_SPLIT_OFF_WITH_RUNS) {
        throw new SplitRefusedError(
          `Refusing to start with RUN_OPS_SPLIT_ENABLED off: the run-ops database (RUN_OPS_DATABASE_URL) holds ${count} runs ` +
            `that only split mode can read, so they would become unreachable. Turn RUN_OPS_SPLIT_ENABLED back on, or set ` +
            `RUN_OPS_ALLOW_SPLIT_OFF_WITH_RUNS=true to start anyway (those runs then answer 410 until split is on again).`
        );
      }
      options.logger?.error(
        "STARTING WITH SPLIT OFF WHILE THE RUN-OPS DATABASE HOLDS RUNS (RUN_OPS_ALLOW_SPLIT_OFF_WITH_RUNS=true): " +
          "they are unreachable and their ids answer 410 run_ops_data_unavailable until RUN_OPS_SPLIT_ENABLED is on again",
        { runCount: count, newestRunAt: probe.newestRunAt?.toISOString() ?? null }
      );
      return { residue: "present", probe };
    }
  }
}

/**
 * What the run store does with a NEW-shaped id while split is off (RunStoreDatabases.onNewIdWhileSplitOff):
 * 410 when runs may be stranded in the run-ops database, otherwise a warning and a read of the
 * control-plane database. Never silent.
 */
export function newIdWhileSplitOffPolicy(state: SplitOffState | undefined, logger: Logger): (id: string) => void {
  const refuse = state?.residue === "present" || state?.residue === "unknown";
  return (id) => {
    if (refuse) {
      logger.warn("run-ops id requested while split is off: answering 410 (its data is in the run-ops database)", { id });
      throw new RunOpsDataUnavailableError(id);
    }
    logger.warn("run-ops id requested while split is off; reading the control-plane database, where it cannot live", { id });
  };
}
