export { runOpsConfigFromEnv, type RunOpsConfig } from "./config.server";
export { runBootSentinels } from "./bootSentinels.server";
export { probeDistinctDatabases, type DistinctVerdict } from "./distinctDatabases.server";
export { fingerprintDatabase, type DatabaseFingerprint } from "./databaseFingerprint.server";
export { assertSplitRealtimeInterlock } from "./realtimeInterlock.server";
export { SplitRefusedError } from "./errors.server";
export {
  decideRunIdMintKind,
  resolveRunIdMintKind,
  mintRunFriendlyId,
  mintBatchFriendlyId,
  mintSettings,
  MINT_NEW_IDS_FLAG,
  type MintKindInput,
  type MintKindDecision,
} from "./mintKind.server";
export { checkSplitOffResidue, newIdWhileSplitOffPolicy, type SplitOffState } from "./splitOffGuard.server";
export { deleteEnvironment, deleteProject, cascadeCleanupDeps, type CascadeCleanupDeps, type CascadeCleanupResult } from "./cascadeCleanup.server";
