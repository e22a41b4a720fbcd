import { RunplaneError } from "@runplane/core/errors";

/** The lock stayed taken by someone else for longer than the acquisition timeout. */
export class LockAcquisitionTimeoutError extends RunplaneError {
  readonly resources: string[];
  readonly waitedMs: number;
  constructor(resources: string[], waitedMs: number) {
    super("lock_acquisition_timeout", `Could not lock ${resources.join(", ")} within ${waitedMs} ms`, 503);
    this.resources = resources;
    this.waitedMs = waitedMs;
  }
}
