import type { Redis } from "ioredis";
import type { RunQueueKeys } from "./keys.js";

export type PlannedQueue = { name: string; concurrencyKeys: string[] };
export type PlannedEnv = { environmentId: string; queues: PlannedQueue[] };
/** Candidates in rotation order (least recently served first). The dequeue script re-checks everything. */
export type DequeuePlan = PlannedEnv[];

export type PlannerOptions = { defaultEnvLimit: number; envScanLimit: number; queueScanLimit: number };

/**
 * Reads the indexes (not atomically: a plan is a hint) and picks what the dequeue script should try:
 * due, unpaused members with free capacity at each level, least recently served first. Blocked
 * members are skipped here so they cannot crowd out others that could run.
 */
export class DequeuePlanner {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RunQueueKeys,
    private readonly options: PlannerOptions,
  ) {}

  async plan(now: number, environmentId: string | undefined, maxCount: number): Promise<DequeuePlan> {
    const envIds =
      environmentId === undefined
        ? await this.dueMembers(this.keys.envs(), this.keys.envsRotation(), now, this.options.envScanLimit)
        : await this.dueEnv(environmentId, now);
    const wanted = maxCount + 1;
    const plan: DequeuePlan = [];
    for (let start = 0; start < envIds.length && plan.length < wanted; start += wanted) {
      const chunk = envIds.slice(start, start + wanted);
      const capacities = await this.envCapacities(chunk);
      const planned = await Promise.all(
        chunk.map(async (envId, i) => {
          const { base, free } = capacities[i]!;
          if (free <= 0) return undefined;
          const queues = await this.planEnv(envId, base, Math.min(free, maxCount) + 1, now);
          return queues.length ? { environmentId: envId, queues } : undefined;
        }),
      );
      for (const env of planned) if (env && plan.length < wanted) plan.push(env);
    }
    return plan;
  }

  private async dueEnv(environmentId: string, now: number): Promise<string[]> {
    const score = await this.redis.zscore(this.keys.envs(), environmentId);
    return score !== null && Number(score) <= now ? [environmentId] : [];
  }

  /**
   * Due members of an index, least recently served first. Looks at two windows: the members with the
   * oldest messages and the front of the rotation (so a member can't starve behind more than `limit`
   * busy ones). Front members with nothing due are moved to the back of the rotation (they rejoin it
   * when they have work, like a newcomer), so they can't fill the window.
   */
  private async dueMembers(indexKey: string, rotationKey: string, now: number, limit: number): Promise<string[]> {
    const [[, dueRaw], [, frontRaw], [, seq]] = (await this.redis
      .pipeline()
      .zrangebyscore(indexKey, "-inf", now, "LIMIT", 0, limit)
      .zrange(rotationKey, 0, limit - 1, "WITHSCORES")
      .get(this.keys.rotationSeq())
      .exec()) as Array<[unknown, unknown]>;
    const due = dueRaw as string[];
    const front = frontRaw as string[];
    const rank = new Map<string, number>();
    const frontMembers: string[] = [];
    for (let i = 0; i < front.length; i += 2) {
      rank.set(front[i]!, Number(front[i + 1]));
      frontMembers.push(front[i]!);
    }
    const dueSet = new Set(due);
    const unknownFront = frontMembers.filter((m) => !dueSet.has(m));
    const unknownDue = due.filter((m) => !rank.has(m));
    const [frontScores, dueRanks] = await Promise.all([
      unknownFront.length ? this.redis.zmscore(indexKey, ...unknownFront) : Promise.resolve([] as Array<string | null>),
      unknownDue.length ? this.redis.zmscore(rotationKey, ...unknownDue) : Promise.resolve([] as Array<string | null>),
    ]);
    unknownDue.forEach((m, i) => rank.set(m, Number(dueRanks[i] ?? 0)));
    const idle: string[] = [];
    unknownFront.forEach((m, i) => {
      const score = frontScores[i];
      if (score !== null && score !== undefined && Number(score) <= now) dueSet.add(m);
      else idle.push(m);
    });
    if (idle.length && seq !== null) {
      const args = idle.flatMap((m) => [seq as string, m]);
      await this.redis.zadd(rotationKey, "XX", ...args);
    }
    const position = new Map(due.map((m, i) => [m, i]));
    return [...dueSet].sort(
      (a, b) => rank.get(a)! - rank.get(b)! || (position.get(a) ?? Infinity) - (position.get(b) ?? Infinity),
    );
  }

  private async envCapacities(envIds: string[]): Promise<Array<{ base: number; free: number }>> {
    const pipeline = this.redis.pipeline();
    for (const envId of envIds) {
      pipeline.hmget(this.keys.envMeta(envId), "limit", "burst", "paused");
      pipeline.scard(this.keys.envRunning(envId));
    }
    const results = (await pipeline.exec()) ?? [];
    return envIds.map((_, i) => {
      const [limit, burst, paused] = results[2 * i]![1] as Array<string | null>;
      const running = results[2 * i + 1]![1] as number;
      const base = limit === null ? this.options.defaultEnvLimit : Number(limit);
      const cap = Math.floor(base * (burst === null ? 1 : Number(burst)));
      return { base, free: paused === "1" ? 0 : cap - running };
    });
  }

  private async planEnv(envId: string, envBase: number, wanted: number, now: number): Promise<PlannedQueue[]> {
    const names = await this.dueMembers(
      this.keys.envQueues(envId),
      this.keys.envQueuesRotation(envId),
      now,
      this.options.queueScanLimit,
    );
    const planned: PlannedQueue[] = [];
    for (let start = 0; start < names.length && planned.length < wanted; start += wanted) {
      const chunk = names.slice(start, start + wanted);
      const metas = await Promise.all(chunk.map((q) => this.redis.hmget(this.keys.queueMeta(envId, q), "limit", "paused", "total")));
      const queues = await Promise.all(
        chunk.map(async (name, i) => {
          const [limit, paused, total] = metas[i]!;
          if (paused === "1") return undefined;
          if (total !== null && (await this.redis.scard(this.keys.queueRunning(envId, name))) >= Number(total)) return undefined;
          const effective = Math.min(limit === null ? Infinity : Number(limit), envBase);
          const concurrencyKeys = await this.planQueue(envId, name, effective, envBase, wanted, now);
          return concurrencyKeys.length ? { name, concurrencyKeys } : undefined;
        }),
      );
      for (const queue of queues) if (queue && planned.length < wanted) planned.push(queue);
    }
    return planned;
  }

  /** Keys with room: below their own override (see `RunQueueKeys.keyLimit`) or else the queue's limit. */
  private async planQueue(envId: string, queue: string, limit: number, envBase: number, wanted: number, now: number): Promise<string[]> {
    const cks = await this.dueMembers(
      this.keys.queueSubs(envId, queue),
      this.keys.queueSubsRotation(envId, queue),
      now,
      this.options.queueScanLimit,
    );
    const planned: string[] = [];
    for (let start = 0; start < cks.length && planned.length < wanted; start += wanted) {
      const chunk = cks.slice(start, start + wanted);
      const [running, overrides] = await Promise.all([
        Promise.all(chunk.map((ck) => this.redis.scard(this.keys.subRunning(envId, queue, ck)))),
        this.redis.mget(...chunk.map((ck) => this.keys.keyLimit(envId, queue, ck))),
      ]);
      chunk.forEach((ck, i) => {
        const override = overrides[i];
        const keyLimit = override === null || override === undefined ? limit : Math.min(Number(override), envBase);
        if (running[i]! < keyLimit && planned.length < wanted) planned.push(ck);
      });
    }
    return planned;
  }
}
