import { Redis } from "ioredis";
import { createRedisClient, type RedisConnectionOptions } from "../redis.js";
import { DEFAULT_MOLLIFIER_NAMESPACE, MollifierKeys, idempotencyLookupKeyFor, makeIdempotencyClaimKey, type IdempotencyTuple } from "./keys.js";
import { errorFields, silentLogger, type MollifierLogger } from "./logger.js";
import { parseEntryHash, type BufferEntry, type BufferError, type Snapshot } from "./schemas.js";
import * as scripts from "./scripts/index.js";
import type { RunScript } from "./scripts/index.js";

export type MollifierBufferOptions = {
  /** A client to use (not closed by `close()`), or connection options for a client of its own. */
  redis: Redis | RedisConnectionOptions;
  namespace?: string;
  /** How long an acked entry stays readable (run store replica lag safety net). Default 30 s. */
  ackGraceTtlSeconds?: number;
  logger?: MollifierLogger;
};

export type AcceptInput = {
  runId: string;
  envId: string;
  orgId: string;
  /** The fully built trigger input to replay; serialised once here. */
  snapshot: Snapshot;
  idempotencyKey?: string | null;
  taskIdentifier?: string | null;
  createdAt?: Date;
};
export type AcceptResult =
  | { kind: "accepted" }
  | { kind: "duplicate_run_id" }
  | { kind: "duplicate_idempotency"; existingRunId: string };

export type PopInput = { envId: string; orgId: string; leaseMs: number };

export type RequeueResult =
  | { kind: "requeued"; attempts: number; nextAttemptAt: number }
  | { kind: "not_found" }
  | { kind: "not_draining"; status: string }
  | { kind: "lease_lost" };

export type FailResult = "failed" | "not_found" | "lease_lost";

export type SnapshotPatch =
  | { type: "append_tags"; tags: string[]; /** default 10; null = no cap */ maxTags?: number | null }
  | { type: "set_metadata"; metadata: string; metadataType: string }
  | { type: "set_delay"; delayUntil: Date }
  | { type: "mark_cancelled"; cancelledAt: Date; cancelReason?: string };

export type MutateSnapshotResult =
  | { kind: "applied_to_snapshot"; addedTags?: number; metadataVersion?: number }
  | { kind: "limit_exceeded"; tagCount: number }
  | { kind: "not_found" }
  | { kind: "busy" };

export type CasSetMetadataResult =
  | { kind: "applied"; newVersion: number }
  | { kind: "version_conflict"; currentVersion: number }
  | { kind: "not_found" }
  | { kind: "busy" };

export type ClaimState = { kind: "claimed" } | { kind: "pending" } | { kind: "resolved"; runId: string };
export type TripResult = { count: number; tripped: boolean };
export type EnvListing = { entries: BufferEntry[]; nextCursor: string | null };
export type SweepShardResult = {
  shard: number;
  wrapped: boolean;
  orgsScanned: number;
  envsScanned: number;
  staleInShard: number;
};

export const DEFAULT_MAX_TAGS = 10;


/** `lastError.code` of an entry handed back because its drain lease expired (the drainer died holding it). */
export const DRAIN_LEASE_EXPIRED = "DrainLeaseExpired";

/**
 * The mollifier's Redis buffer: one atomic Lua script per operation (see ./scripts), one typed
 * method per script, plus plain reads. Key layout and the key-prefix rule: ./keys.ts.
 */
export class MollifierBuffer {
  readonly redis: Redis;
  readonly keys: MollifierKeys;
  private readonly ownsClient: boolean;
  private readonly root: string;
  private readonly graceTtlSeconds: number;
  private readonly logger: MollifierLogger;
  private readonly run: Record<keyof typeof scripts, RunScript>;

  constructor(options: MollifierBufferOptions) {
    this.ownsClient = !(options.redis instanceof Redis);
    this.redis = options.redis instanceof Redis ? options.redis : createRedisClient(options.redis, "mollifier");
    this.keys = new MollifierKeys(options.namespace ?? DEFAULT_MOLLIFIER_NAMESPACE);
    this.root = (this.redis.options.keyPrefix ?? "") + this.keys.namespace;
    this.graceTtlSeconds = options.ackGraceTtlSeconds ?? 30;
    this.logger = options.logger ?? silentLogger;
    this.run = Object.fromEntries(
      Object.entries(scripts)
        .filter(([, s]) => typeof s === "object")
        .map(([name, s]) => [name, scripts.bindScript(this.redis, s as scripts.MollifierScript)]),
    ) as Record<keyof typeof scripts, RunScript>;
  }

  // ── accept / drain lifecycle ────────────────────────────────────────────────────────────────

  async accept(input: AcceptInput): Promise<AcceptResult> {
    const k = this.keys;
    const createdAt = input.createdAt ?? new Date();
    const tags = Array.isArray(input.snapshot.tags) ? input.snapshot.tags.filter((t): t is string => typeof t === "string") : [];
    const lookupSuffix =
      input.idempotencyKey && input.taskIdentifier
        ? idempotencyLookupKeyFor({ envId: input.envId, taskIdentifier: input.taskIdentifier, idempotencyKey: input.idempotencyKey })
        : "";
    const reply = (await this.run.acceptEntry(
      [k.key("entry", input.runId), k.key("queue", input.envId), k.key("orgs"), k.key("orgEnvs", input.orgId), k.key("envIndex", input.envId), k.key("depth")],
      [this.root, input.runId, input.envId, input.orgId, JSON.stringify(input.snapshot), createdAt.toISOString(), createdAt.getTime(), lookupSuffix, JSON.stringify(tags)],
    )) as [string, string?];
    if (reply[0] === "duplicate_idempotency") return { kind: "duplicate_idempotency", existingRunId: reply[1]! };
    if (reply[0] === "duplicate_run_id") return { kind: "duplicate_run_id" };
    return { kind: "accepted" };
  }

  /** Lease the next ready entry of an env (DRAINING), or a DRAINED one whose ack was lost. */
  async pop(input: PopInput): Promise<BufferEntry | null> {
    const k = this.keys;
    for (let guard = 0; guard < 10; guard++) {
      const raw = (await this.run.popEntry(
        [k.key("queue", input.envId), k.key("delayed", input.envId), k.key("orgEnvs", input.orgId), k.key("orgs"), k.key("draining")],
        [this.root, input.envId, input.orgId, input.leaseMs, 100],
      )) as string[] | null;
      if (!raw) return null;
      const entry = parseEntryHash(raw);
      if (entry) return entry;
      // A hash that does not parse can never be replayed: drop it loudly rather than strand it.
      const runId = fieldOf(raw, "runId");
      this.logger.error("MollifierBuffer.pop: malformed entry discarded", { runId, envId: input.envId });
      if (runId) await this.fail(runId, { code: "MalformedEntry", message: "Entry hash failed validation" });
    }
    return null;
  }

  async markDrained(runId: string, leaseId: number): Promise<boolean> {
    return (await this.run.markDrained([this.keys.key("entry", runId)], [leaseId])) === 1;
  }

  async ack(runId: string): Promise<boolean> {
    const k = this.keys;
    const reply = await this.run.ackEntry([k.key("entry", runId), k.key("draining"), k.key("depth")], [this.root, runId, this.graceTtlSeconds]);
    return reply !== 0;
  }

  async requeue(runId: string, options: { delayMs: number; leaseId?: number; error?: BufferError }): Promise<RequeueResult> {
    const k = this.keys;
    const reply = (await this.run.requeueEntry(
      [k.key("entry", runId), k.key("draining"), k.key("orgs")],
      [this.root, runId, Math.max(0, Math.round(options.delayMs)), options.leaseId ?? "", options.error ? JSON.stringify(options.error) : ""],
    )) as [string, (string | number)?, string?];
    switch (reply[0]) {
      case "requeued":
        return { kind: "requeued", attempts: Number(reply[1]), nextAttemptAt: Number(reply[2]) };
      case "not_draining":
        return { kind: "not_draining", status: String(reply[1]) };
      case "lease_lost":
        return { kind: "lease_lost" };
      default:
        return { kind: "not_found" };
    }
  }

  async fail(runId: string, options: { code: string; message: string; leaseId?: number }): Promise<FailResult> {
    const k = this.keys;
    return (await this.run.failEntry([k.key("entry", runId), k.key("draining"), k.key("depth")], [this.root, runId, options.leaseId ?? ""])) as FailResult;
  }

  /** Return entries whose drain lease expired to their queue (crash recovery). */
  async reclaimExpiredDrains(options: { limit?: number } = {}): Promise<{ requeued: number; pendingAck: number }> {
    const error = JSON.stringify({ code: DRAIN_LEASE_EXPIRED, message: "Drain lease expired before the entry was acknowledged" });
    const [requeued, pendingAck] = (await this.run.reclaimExpiredDrains(
      [this.keys.key("draining"), this.keys.key("orgs")],
      [this.root, options.limit ?? 100, error],
    )) as [number, number];
    return { requeued, pendingAck };
  }

  // ── reads ───────────────────────────────────────────────────────────────────────────────────

  async getEntry(runId: string): Promise<BufferEntry | null> {
    const raw = await this.redis.hgetall(this.keys.key("entry", runId));
    if (Object.keys(raw).length === 0) return null;
    const entry = parseEntryHash(raw);
    if (!entry) this.logger.error("MollifierBuffer.getEntry: malformed entry", { runId });
    return entry;
  }

  async getEntryTtlSeconds(runId: string): Promise<number> {
    return this.redis.ttl(this.keys.key("entry", runId));
  }

  listOrgs(): Promise<string[]> {
    return this.redis.smembers(this.keys.key("orgs"));
  }

  listEnvsForOrg(orgId: string): Promise<string[]> {
    return this.redis.smembers(this.keys.key("orgEnvs", orgId));
  }

  /**
   * Unacked entries of an env, newest first (createdAt, then run id), `limit` at a time. The cursor
   * is opaque; entries accepted after the first page was read appear only on a fresh listing.
   */
  async listEnvEntries(envId: string, options: { limit?: number; cursor?: string | null } = {}): Promise<EnvListing> {
    const limit = options.limit ?? 50;
    if (limit <= 0) return { entries: [], nextCursor: null };
    const after = options.cursor ? decodeCursor(options.cursor) : null;
    const key = this.keys.key("envIndex", envId);
    const found: Array<{ runId: string; score: number }> = [];
    for (let offset = 0; found.length <= limit; ) {
      const page = await this.redis.zrevrangebyscore(key, after ? after.score : "+inf", "-inf", "WITHSCORES", "LIMIT", offset, limit + 1);
      for (let i = 0; i < page.length; i += 2) {
        const runId = page[i]!;
        const score = Number(page[i + 1]);
        // equal scores come in descending run id order: skip those at or before the cursor
        if (after && score === after.score && runId >= after.runId) continue;
        found.push({ runId, score });
      }
      offset += page.length / 2;
      if (page.length / 2 < limit + 1) break;
    }
    const pageIds = found.slice(0, limit);
    const pipeline = this.redis.pipeline();
    for (const { runId } of pageIds) pipeline.hgetall(this.keys.key("entry", runId));
    const replies = (await pipeline.exec()) ?? [];
    const entries: BufferEntry[] = [];
    for (const [err, raw] of replies) {
      // an entry acked or failed between the index read and the hash read is simply gone
      const entry = err ? null : parseEntryHash(raw as Record<string, string>);
      if (entry && !entry.materialised) entries.push(entry);
    }
    const last = pageIds[pageIds.length - 1];
    return { entries, nextCursor: found.length > limit && last ? encodeCursor(last) : null };
  }

  /** Unacked entries (queued, delayed or draining) across the buffer. */
  async getDepth(): Promise<number> {
    return Number((await this.redis.get(this.keys.key("depth"))) ?? 0);
  }

  async getDrainingCount(): Promise<number> {
    return this.redis.zcard(this.keys.key("draining"));
  }

  async getEnvCounts(envId: string): Promise<{ ready: number; delayed: number; unacked: number }> {
    const [ready, delayed, unacked] = await Promise.all([
      this.redis.llen(this.keys.key("queue", envId)),
      this.redis.zcard(this.keys.key("delayed", envId)),
      this.redis.zcard(this.keys.key("envIndex", envId)),
    ]);
    return { ready, delayed, unacked };
  }

  // ── mutations while buffered ────────────────────────────────────────────────────────────────

  async mutateSnapshot(runId: string, patch: SnapshotPatch): Promise<MutateSnapshotResult> {
    const args = patchArgs(patch);
    const reply = (await this.run.mutateSnapshot([this.keys.key("entry", runId)], args)) as [string, (number | string)?];
    switch (reply[0]) {
      case "applied":
        if (patch.type === "append_tags") return { kind: "applied_to_snapshot", addedTags: Number(reply[1]) };
        if (patch.type === "set_metadata") return { kind: "applied_to_snapshot", metadataVersion: Number(reply[1]) };
        return { kind: "applied_to_snapshot" };
      case "limit_exceeded":
        return { kind: "limit_exceeded", tagCount: Number(reply[1]) };
      case "not_found":
        return { kind: "not_found" };
      case "busy":
        return { kind: "busy" };
      default:
        throw new Error(`MollifierBuffer.mutateSnapshot: unexpected reply ${String(reply[0])}`);
    }
  }

  async casSetMetadata(input: { runId: string; expectedVersion: number; metadata: string; metadataType: string }): Promise<CasSetMetadataResult> {
    const reply = (await this.run.casSetMetadata([this.keys.key("entry", input.runId)], [input.expectedVersion, input.metadata, input.metadataType])) as [
      string,
      (number | string)?,
    ];
    switch (reply[0]) {
      case "applied":
        return { kind: "applied", newVersion: Number(reply[1]) };
      case "version_conflict":
        return { kind: "version_conflict", currentVersion: Number(reply[1]) };
      case "busy":
        return { kind: "busy" };
      default:
        return { kind: "not_found" };
    }
  }

  // ── idempotency ─────────────────────────────────────────────────────────────────────────────

  /** The live buffered run holding this key, or null (a binding whose entry vanished is removed). */
  async lookupIdempotency(tuple: IdempotencyTuple): Promise<string | null> {
    const reply = await this.run.lookupIdempotency([this.keys.fromSuffix(idempotencyLookupKeyFor(tuple))], [this.root]);
    return typeof reply === "string" ? reply : null;
  }

  /** Clears the claim, the lookup and the key on the bound entry's snapshot. */
  async resetIdempotency(tuple: IdempotencyTuple): Promise<{ clearedRunId: string | null }> {
    const reply = await this.run.resetIdempotency(
      [this.keys.fromSuffix(makeIdempotencyClaimKey(tuple)), this.keys.fromSuffix(idempotencyLookupKeyFor(tuple))],
      [this.root],
    );
    return { clearedRunId: typeof reply === "string" && reply !== "" ? reply : null };
  }

  async claimIdempotency(input: IdempotencyTuple & { token: string; ttlSeconds: number }): Promise<ClaimState> {
    const reply = (await this.run.claimIdempotency([this.claimKey(input)], [input.token, input.ttlSeconds])) as [string, string?];
    if (reply[0] === "resolved") return { kind: "resolved", runId: reply[1]! };
    return reply[0] === "pending" ? { kind: "pending" } : { kind: "claimed" };
  }

  async publishClaim(input: IdempotencyTuple & { token: string; runId: string; ttlSeconds: number }): Promise<boolean> {
    return (await this.run.publishClaim([this.claimKey(input)], [input.token, input.runId, input.ttlSeconds])) === 1;
  }

  async releaseClaim(input: IdempotencyTuple & { token: string }): Promise<boolean> {
    return (await this.run.releaseClaim([this.claimKey(input)], [input.token])) === 1;
  }

  async resetResolvedClaim(input: IdempotencyTuple & { expectedRunId: string }): Promise<boolean> {
    return (await this.run.resetResolvedClaim([this.claimKey(input)], [input.expectedRunId])) === 1;
  }

  async readClaim(tuple: IdempotencyTuple): Promise<ClaimState | null> {
    const value = await this.redis.get(this.claimKey(tuple));
    if (value === null) return null;
    return value.startsWith("pending:") ? { kind: "pending" } : { kind: "resolved", runId: value };
  }

  // ── gate ────────────────────────────────────────────────────────────────────────────────────

  async evaluateTrip(envId: string, options: { windowMs: number; threshold: number; holdMs: number }): Promise<TripResult> {
    const [count, tripped] = (await this.run.evaluateTrip(
      [this.keys.key("rate", envId), this.keys.key("tripped", envId)],
      [options.windowMs, options.threshold, options.holdMs],
    )) as [number, number];
    return { count, tripped: tripped === 1 };
  }

  // ── stale sweep storage ─────────────────────────────────────────────────────────────────────

  async acquireSweepLease(token: string, ttlMs: number): Promise<boolean> {
    return (await this.run.acquireLease([this.keys.key("sweepLease")], [token, ttlMs])) === 1;
  }

  async releaseSweepLease(token: string): Promise<boolean> {
    return (await this.run.releaseLease([this.keys.key("sweepLease")], [token])) === 1;
  }

  async sweepShard(input: { cutoffMs: number; shardCount: number }): Promise<SweepShardResult> {
    const k = this.keys;
    const [shard, wrapped, orgsScanned, envsScanned, staleInShard] = (await this.run.sweepShard(
      [k.key("sweepCursor"), k.key("sweepOrgs"), k.key("orgs"), k.key("sweepCounts"), k.key("sweepVisited")],
      [this.root, Math.floor(input.cutoffMs), Math.max(1, Math.floor(input.shardCount))],
    )) as number[];
    return { shard: shard!, wrapped: wrapped === 1, orgsScanned: orgsScanned!, envsScanned: envsScanned!, staleInShard: staleInShard! };
  }

  async readStaleCounts(): Promise<Record<string, number>> {
    const raw = await this.redis.hgetall(this.keys.key("sweepCounts"));
    return Object.fromEntries(Object.entries(raw).map(([env, n]) => [env, Number(n)]));
  }

  /** Forget all sweep state (cursor, frozen org list, counts, visited set). */
  async clearSweepState(): Promise<void> {
    const k = this.keys;
    await this.redis.del(k.key("sweepCursor"), k.key("sweepOrgs"), k.key("sweepCounts"), k.key("sweepVisited"));
  }

  async close(): Promise<void> {
    if (!this.ownsClient) return;
    try {
      await this.redis.quit();
    } catch (error) {
      this.logger.warn("MollifierBuffer.close failed", errorFields(error));
      this.redis.disconnect();
    }
  }

  private claimKey(tuple: IdempotencyTuple): string {
    return this.keys.fromSuffix(makeIdempotencyClaimKey(tuple));
  }
}

function patchArgs(patch: SnapshotPatch): Array<string | number> {
  switch (patch.type) {
    case "append_tags":
      return ["append_tags", JSON.stringify(patch.tags.filter((t) => typeof t === "string" && t.length > 0)), patch.maxTags === null ? "" : (patch.maxTags ?? DEFAULT_MAX_TAGS)];
    case "set_metadata":
      return ["set_metadata", patch.metadata, patch.metadataType];
    case "set_delay":
      return ["set_delay", patch.delayUntil.toISOString()];
    case "mark_cancelled":
      return ["mark_cancelled", patch.cancelledAt.toISOString(), patch.cancelReason ?? ""];
  }
}

function fieldOf(flat: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < flat.length; i += 2) if (flat[i] === name) return flat[i + 1];
  return undefined;
}

/**
 * A `listEnvEntries` cursor positioned at (createdAt ms, run id): the listing continues with entries
 * strictly older than it. Lets a caller merging buffered entries into a keyset-paginated list resume
 * at that list's own position.
 */
export function envListingCursor(position: { createdAtMs: number; runId: string }): string {
  return encodeCursor({ score: position.createdAtMs, runId: position.runId });
}

function encodeCursor(position: { runId: string; score: number }): string {
  return Buffer.from(`${position.score}:${position.runId}`, "utf8").toString("base64url");
}

function decodeCursor(cursor: string): { runId: string; score: number } | null {
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  const at = text.indexOf(":");
  const score = Number(text.slice(0, at));
  if (at <= 0 || !Number.isFinite(score)) return null;
  return { score, runId: text.slice(at + 1) };
}
