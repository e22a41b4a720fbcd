import type { Env } from "~/env.server";
import type { Logger } from "~/services/logger.server";
import type { FingerprintProbe } from "./databaseFingerprint.server";
import type { RunOpsConfig } from "./config.server";
import { probeDistinctDatabases } from "./distinctDatabases.server";
import { SplitRefusedError } from "./errors.server";
import { assertSplitRealtimeInterlock } from "./realtimeInterlock.server";
import { checkSplitOffResidue, type ResidueProbe, type SplitOffEnv } from "./splitOffGuard.server";

/**
 * Runs before anything is wired. Split off: the stranded-runs check (splitOffGuard.server.ts), whose
 * verdict is recorded on `config.splitOff`. Split on: the realtime interlock (no I/O), then the
 * distinct-database sentinel. Any refusal throws SplitRefusedError, which the server entry turns into
 * exit code 1 with the message.
 */
export async function runBootSentinels(
  config: RunOpsConfig,
  env: Pick<Env, "REALTIME_BACKEND"> & Partial<SplitOffEnv>,
  options: { logger?: Logger; probe?: FingerprintProbe; residueProbe?: ResidueProbe } = {}
): Promise<void> {
  if (!config.splitEnabled) {
    config.splitOff = await checkSplitOffResidue(
      {
        RUN_OPS_SPLIT_ENABLED: false,
        RUN_OPS_DATABASE_URL: env.RUN_OPS_DATABASE_URL,
        RUN_OPS_ALLOW_SPLIT_OFF_WITH_RUNS: env.RUN_OPS_ALLOW_SPLIT_OFF_WITH_RUNS ?? false,
      },
      { logger: options.logger, probe: options.residueProbe }
    );
    return;
  }
  config.splitOff = { residue: "not_applicable" };
  assertSplitRealtimeInterlock({ splitEnabled: true, realtimeBackend: env.REALTIME_BACKEND });

  const verdict = await probeDistinctDatabases(config.controlPlaneDatabaseUrl, config.runOpsDatabaseUrl!, options.probe);
  if (!verdict.distinct) {
    throw new SplitRefusedError(
      `Refusing to start with RUN_OPS_SPLIT_ENABLED on: ${verdict.reason}. ` +
        `Point RUN_OPS_DATABASE_URL at a separate database, or turn RUN_OPS_SPLIT_ENABLED off.`
    );
  }
  options.logger?.info("run-ops split confirmed: two distinct databases", {
    controlPlane: verdict.controlPlane,
    runOps: verdict.runOps,
    mintKind: config.mintKind,
  });
}
