import type { Redis } from "ioredis";
import { createRedisClient } from "../redis.js";
import { JobKeys } from "./keys.js";
import { ackJobScript } from "./scripts/ackJob.js";
import { claimJobsScript, type ClaimSettings, type ClaimedJob } from "./scripts/claimJobs.js";
import { completeJobScript } from "./scripts/completeJob.js";
import { enqueueJobScript } from "./scripts/enqueueJob.js";
import { failJobScript, type FailJobResult } from "./scripts/failJob.js";
import { rescheduleJobScript } from "./scripts/rescheduleJob.js";
import type { DeadLetter, EnqueueJob, JobCatalog, JobName, JobQueueOptions, ScheduledJob } from "./types.js";

/** Dead letters kept per queue (oldest dropped). */
export const DEAD_LETTER_CAP = 10_000;

/**
 * A Redis-backed delayed job queue. Jobs have ids: `enqueue` replaces, `enqueueOnce` keeps the first,
 * `ack` cancels, `reschedule` moves. Payloads are validated against the catalog's zod schema.
 * `JobWorker` runs them; any number of processes may share a queue.
 */
export class JobQueue<C extends JobCatalog> {
  readonly keys: JobKeys;
  private readonly redis: Redis;
  private readonly scripts;

  constructor(readonly options: JobQueueOptions<C>) {
    this.redis = createRedisClient(options.redis, `jobs:${options.name}`);
    this.keys = new JobKeys(options.keyPrefix ?? "worker:", options.name);
    this.scripts = {
      enqueue: enqueueJobScript(this.redis, this.keys),
      ack: ackJobScript(this.redis, this.keys),
      reschedule: rescheduleJobScript(this.redis, this.keys),
      claim: claimJobsScript(this.redis, this.keys),
      complete: completeJobScript(this.redis, this.keys),
      fail: failJobScript(this.redis, this.keys),
    };
  }

  get name(): string {
    return this.options.name;
  }

  get catalog(): C {
    return this.options.catalog;
  }

  /** Schedules the job, replacing any job with the same id (its attempts start over). */
  async enqueue<K extends JobName<C>>(job: EnqueueJob<C, K>): Promise<void> {
    await this.scripts.enqueue(job.id, this.encode(job), toMs(job.availableAt), false);
  }

  /** Schedules the job unless one with the same id exists; true when this call scheduled it. */
  async enqueueOnce<K extends JobName<C>>(job: EnqueueJob<C, K>): Promise<boolean> {
    return this.scripts.enqueue(job.id, this.encode(job), toMs(job.availableAt), true);
  }

  /** Cancels the job; true when it existed. */
  ack(id: string): Promise<boolean> {
    return this.scripts.ack(id);
  }

  /** Moves an existing job to a new time; false when there is none. */
  reschedule(id: string, availableAt: Date | number): Promise<boolean> {
    return this.scripts.reschedule(id, toMs(availableAt));
  }

  async get(id: string): Promise<ScheduledJob | undefined> {
    const [[, data], [, score], [, attempts], [, claim], [, lastError]] = (await this.redis
      .multi()
      .hget(this.keys.jobs, id)
      .zscore(this.keys.due, id)
      .hget(this.keys.attempts, id)
      .hget(this.keys.claims, id)
      .hget(this.keys.errors, id)
      .exec()) as Array<[unknown, string | null]>;
    if (data == null) return undefined;
    const { job, payload } = JSON.parse(data) as { job: string; payload: unknown };
    return {
      id,
      job,
      payload,
      availableAt: Number(score),
      attempts: Number(attempts ?? 0),
      claimed: claim != null,
      ...(lastError != null ? { lastError } : {}),
    };
  }

  /** Jobs scheduled (due or not, claimed or not). */
  size(): Promise<number> {
    return this.redis.hlen(this.keys.jobs);
  }

  /** Newest first. */
  async deadLetters(limit = 100): Promise<DeadLetter[]> {
    const entries = await this.redis.lrange(this.keys.deadLetters, 0, limit - 1);
    return entries.map((entry) => {
      const { id, attempts, error, failedAt, data } = JSON.parse(entry) as {
        id: string;
        attempts: number;
        error: string;
        failedAt: number;
        data: { job: string; payload: unknown };
      };
      return { id, job: data.job, payload: data.payload, attempts, error, failedAt };
    });
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  /** @internal Worker side: claim due jobs. */
  claim(count: number, settings: Omit<ClaimSettings, "deadLetterCap">): Promise<ClaimedJob[]> {
    return this.scripts.claim(count, Date.now(), { ...settings, deadLetterCap: DEAD_LETTER_CAP });
  }

  /** @internal Worker side: delete after success if the claim is still current. */
  complete(id: string, token: string): Promise<boolean> {
    return this.scripts.complete(id, token);
  }

  /** @internal Worker side: retry at `retryAt` or dead-letter. */
  fail(id: string, token: string, error: string, retryAt: number, deadLetter: boolean): Promise<FailJobResult> {
    return this.scripts.fail(id, token, error, retryAt, deadLetter, Date.now(), DEAD_LETTER_CAP);
  }

  private encode<K extends JobName<C>>(job: EnqueueJob<C, K>): string {
    const definition = this.options.catalog[job.job];
    if (!definition) throw new Error(`Unknown job "${job.job}" for queue ${this.options.name}`);
    const payload = definition.schema.parse(job.payload);
    return JSON.stringify({ job: job.job, payload });
  }
}

function toMs(at: Date | number | undefined): number {
  if (at === undefined) return Date.now();
  return typeof at === "number" ? at : at.getTime();
}
