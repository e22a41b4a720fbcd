export { runOpsConfigFromEnv, type RunOpsConfig } from "./config.server";
export { runBootSentinels } from "./bootSentinels.server";
export { probeDistinctDatabases, type DistinctVerdict } from "./distinctDatabases.server";
export { fingerprintDatabase, type DatabaseFingerprint } from "./databaseFingerprint.server";
export { assertSplitRealtimeInterlock } from "./realtimeInterlock.server";
export { SplitRefusedError } from "./errors.server";
