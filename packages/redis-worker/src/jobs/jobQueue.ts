import type { DeadLetter, EnqueueJob, JobCatalog, JobName, JobQueueOptions, ScheduledJob } from "./types.js";

/** Redis-backed delayed job queue (work in progress: the API is final, bodies land next). */
export class JobQueue<C extends JobCatalog> {
  constructor(readonly options: JobQueueOptions<C>) {}
  get catalog(): C {
    return this.options.catalog;
  }
  /** Schedules the job, replacing any job with the same id. */
  async enqueue<K extends JobName<C>>(_job: EnqueueJob<C, K>): Promise<void> {
    throw new Error("not implemented yet");
  }
  /** Schedules the job unless one with the same id exists; true when this call scheduled it. */
  async enqueueOnce<K extends JobName<C>>(_job: EnqueueJob<C, K>): Promise<boolean> {
    throw new Error("not implemented yet");
  }
  /** Cancels the job; true when it existed. */
  async ack(_id: string): Promise<boolean> {
    throw new Error("not implemented yet");
  }
  /** Moves an existing job to a new time; false when there is none. */
  async reschedule(_id: string, _availableAt: Date | number): Promise<boolean> {
    throw new Error("not implemented yet");
  }
  async get(_id: string): Promise<ScheduledJob | undefined> {
    throw new Error("not implemented yet");
  }
  async size(): Promise<number> {
    throw new Error("not implemented yet");
  }
  async deadLetters(_limit = 100): Promise<DeadLetter[]> {
    throw new Error("not implemented yet");
  }
  async close(): Promise<void> {}
}
