export {
  MollifierBuffer,
  DEFAULT_MAX_TAGS,
  envListingCursor,
  type MollifierBufferOptions,
  type AcceptInput,
  type AcceptResult,
  type PopInput,
  type RequeueResult,
  type FailResult,
  type SnapshotPatch,
  type MutateSnapshotResult,
  type CasSetMetadataResult,
  type ClaimState,
  type TripResult,
  type EnvListing,
  type SweepShardResult,
} from "./buffer.js";
export {
  MollifierDrainer,
  type MollifierDrainerOptions,
  type DrainEntry,
  type TerminalEntry,
  type DrainFailure,
  type DrainFailureCause,
  type TickResult,
} from "./drainer.js";
export { MollifierStaleSweep, type MollifierStaleSweepOptions, type StaleSweepTickInput, type StaleSweepTickResult } from "./staleSweep.js";
export { RetryableDrainError, TerminalDrainError, isRetryableDrainError, drainBackoffMs } from "./retry.js";
export {
  MollifierMetrics,
  mollifierMetrics,
  recordMollifierDecision,
  MOLLIFIER_METER_NAME,
  MOLLIFIER_METRICS,
  type DecisionOutcome,
  type DrainOutcome,
} from "./telemetry.js";
export { BufferEntrySchema, ENTRY_STATUSES, entrySnapshot, parseEntryHash, type BufferEntry, type BufferError, type EntryStatus, type Snapshot } from "./schemas.js";
export {
  DEFAULT_MOLLIFIER_NAMESPACE,
  MollifierKeys,
  b64u,
  idempotencyLookupKeyFor,
  makeIdempotencyClaimKey,
  keySuffix,
  type IdempotencyTuple,
} from "./keys.js";
export { silentLogger, type MollifierLogger } from "./logger.js";
