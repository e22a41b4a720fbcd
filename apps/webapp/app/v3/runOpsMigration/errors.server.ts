import { ConfigurationError } from "@runplane/core";

/** A boot sentinel refused the run-ops split; the process must not start. */
export class SplitRefusedError extends ConfigurationError {
  constructor(message: string) {
    super("run_ops_split_refused", message);
  }
}
