import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { z } from "zod";
import { luaCommand } from "@runplane/redis-worker/jobs";
import { readChangesLua, recordChangesLua } from "./changeLog.lua";

/** Position of an environment's change log: `epoch` names the log's lifetime, `seq` counts changes. */
export type LogPosition = { epoch: string; seq: number };

export type ChangesSince = LogPosition & {
  /** Changes at or below this seq may have been trimmed out of the log. */
  floor: number;
  /** Runs changed after `since`, oldest change first; `complete` false when the log cannot say. */
  runIds: string[];
  /** False when `since` is below the floor or more than `limit` runs changed: refresh the whole shape. */
  complete: boolean;
};

/** What `recordChanges` publishes on the environment's channel. */
export const ChangeMessage = z.object({
  epoch: z.string().min(1),
  seq: z.number().int().nonnegative(),
  // cjson encodes an empty Lua table as {}; never sent empty, but parse it leniently.
  runIds: z.union([z.array(z.string()), z.object({}).strict().transform(() => [] as string[])]),
});
export type ChangeMessage = z.output<typeof ChangeMessage>;

export type ChangeLogOptions = {
  redis: Redis;
  /** REDIS_KEY_PREFIX: prepended to every key and channel. */
  keyPrefix: string;
  /** Idle lifetime of an environment's log. Default 7 days. */
  ttlMs?: number;
  /** Runs remembered per environment. Default 10 000. */
  maxEntries?: number;
};

const DEFAULT_TTL_MS = 7 * 24 * 60 * 60 * 1000;
const DEFAULT_MAX_ENTRIES = 10_000;

function newEpoch(): string {
  return randomBytes(6).toString("hex");
}

/**
 * The Redis side of the realtime change feed: a monotonic change counter per environment, the
 * latest change seq of each recently changed run, and a pub/sub channel announcing each change.
 * Offsets given to clients are positions in this log, so two changes in the same millisecond are
 * two different positions.
 */
export class RealtimeChangeLog {
  readonly keyPrefix: string;
  private readonly redis: Redis;
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly record: ReturnType<typeof luaCommand>;
  private readonly read: ReturnType<typeof luaCommand>;

  constructor(options: ChangeLogOptions) {
    this.redis = options.redis;
    this.keyPrefix = options.keyPrefix;
    this.ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
    this.maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    this.record = luaCommand(this.redis, "realtimeRecordChanges", recordChangesLua);
    this.read = luaCommand(this.redis, "realtimeReadChanges", readChangesLua);
  }

  /** The pub/sub channel of an environment's changes. */
  channel(environmentId: string): string {
    return `${this.keyPrefix}realtime:env:${environmentId}:changes`;
  }

  private keys(environmentId: string): [string, string] {
    const base = `${this.keyPrefix}realtime:env:${environmentId}`;
    return [`${base}:meta`, `${base}:log`];
  }

  /** Records that these runs (internal ids) changed, as one new position, and announces it. */
  async recordChanges(environmentId: string, runIds: readonly string[]): Promise<LogPosition> {
    const unique = [...new Set(runIds)];
    if (unique.length === 0) throw new Error("recordChanges needs at least one run id");
    const result = (await this.record(this.keys(environmentId), [
      this.channel(environmentId),
      newEpoch(),
      this.ttlMs,
      this.maxEntries,
      ...unique,
    ])) as [string, number | string];
    return { epoch: String(result[0]), seq: Number(result[1]) };
  }

  /** The current position, and (when `since` ≥ 0) the runs changed after it, up to `limit`. */
  async changesSince(environmentId: string, since: number, limit = 1000): Promise<ChangesSince> {
    const result = (await this.read(this.keys(environmentId), ["", newEpoch(), this.ttlMs, since, limit])) as [
      string,
      string | number,
      string | number,
      string[],
    ];
    const seq = Number(result[1]);
    const floor = Number(result[2]);
    const runIds = result[3] ?? [];
    const complete = since >= 0 && since >= floor && runIds.length <= limit;
    return { epoch: String(result[0]), seq, floor, runIds: complete ? runIds : runIds.slice(0, limit), complete };
  }

  /** The current position (creating the epoch if the environment has none yet). */
  async position(environmentId: string): Promise<LogPosition> {
    const { epoch, seq } = await this.changesSince(environmentId, -1);
    return { epoch, seq };
  }
}
