import type { MintKind } from "@runplane/core";
import type { Env } from "~/env.server";
import type { SplitOffState } from "./splitOffGuard.server";

/**
 * Run-ops topology as the environment asks for it. Split off: one database, every id a cuid.
 * Split on: run tables may live in RUN_OPS_DATABASE_URL too, and RUN_OPS_MINT_NEW_IDS chooses
 * whether new runs get ksuids (run-ops residency). The boot sentinels decide whether split may start.
 */
export type RunOpsConfig = {
  splitEnabled: boolean;
  controlPlaneDatabaseUrl: string;
  /** Set only when split is on. */
  runOpsDatabaseUrl?: string;
  /** Id family for new root runs: LEGACY (cuid) unless split is on and RUN_OPS_MINT_NEW_IDS is set. */
  mintKind: MintKind;
  /** Settings that have no effect in this configuration, for the boot log. */
  notes: RunOpsNote[];
  /** Filled by the boot sentinels: runs stranded in the run-ops database while split is off. */
  splitOff?: SplitOffState;
};

export type RunOpsNote = { level: "info" | "warn"; message: string };

export type RunOpsEnv = Pick<
  Env,
  "DATABASE_URL" | "RUN_OPS_DATABASE_URL" | "RUN_OPS_SPLIT_ENABLED" | "RUN_OPS_MINT_NEW_IDS"
>;

export function runOpsConfigFromEnv(env: RunOpsEnv): RunOpsConfig {
  const notes: RunOpsNote[] = [];
  if (!env.RUN_OPS_SPLIT_ENABLED) {
    if (env.RUN_OPS_MINT_NEW_IDS) {
      notes.push({ level: "warn", message: "RUN_OPS_MINT_NEW_IDS is ignored while RUN_OPS_SPLIT_ENABLED is off: new runs get cuids" });
    }
    if (env.RUN_OPS_DATABASE_URL) {
      // Normal for start.sh, which migrates the run-ops database ahead so split can be turned on later.
      notes.push({ level: "info", message: "RUN_OPS_DATABASE_URL is set but RUN_OPS_SPLIT_ENABLED is off: run tables stay in DATABASE_URL" });
    }
    return { splitEnabled: false, controlPlaneDatabaseUrl: env.DATABASE_URL, mintKind: "LEGACY", notes };
  }
  if (!env.RUN_OPS_DATABASE_URL) {
    // The env schema already refuses this; kept so the function is total for direct callers.
    throw new Error("RUN_OPS_SPLIT_ENABLED is on but RUN_OPS_DATABASE_URL is not set");
  }
  return {
    splitEnabled: true,
    controlPlaneDatabaseUrl: env.DATABASE_URL,
    runOpsDatabaseUrl: env.RUN_OPS_DATABASE_URL,
    mintKind: env.RUN_OPS_MINT_NEW_IDS ? "NEW" : "LEGACY",
    notes,
  };
}
