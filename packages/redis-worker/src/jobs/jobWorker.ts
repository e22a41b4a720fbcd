import type { JobCatalog, JobWorkerOptions } from "./types.js";

/** Claims due jobs and runs their handlers (work in progress: the API is final, the body lands next). */
export class JobWorker<C extends JobCatalog> {
  constructor(readonly options: JobWorkerOptions<C>) {}
  start(): void {
    throw new Error("not implemented yet");
  }
  async stop(_deadlineMs = 30_000): Promise<boolean> {
    return true;
  }
}
