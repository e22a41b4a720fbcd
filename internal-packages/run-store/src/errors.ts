import { RunplaneError } from "@runplane/core";

/**
 * A NEW-shaped (run-ops) id was asked for while split mode is off, on a server that knows the run-ops
 * database holds runs it cannot read now. 410: the row may well exist, this server will not serve it
 * until RUN_OPS_SPLIT_ENABLED is on again. Never a silent 404.
 */
export class RunOpsDataUnavailableError extends RunplaneError {
  readonly id: string;
  constructor(id: string) {
    super(
      "run_ops_data_unavailable",
      `${id} is a run-ops id; its data lives in the run-ops database, which this server does not read while ` +
        `RUN_OPS_SPLIT_ENABLED is off. Turn split mode back on to reach it.`,
      410
    );
    this.id = id;
  }
}

/**
 * The cross-seam guard refused an operation whose rows would straddle the two databases in a way the
 * engine cannot resume safely (see crossSeam.ts). `status` is 422 for a caller's bad input (an id of
 * the wrong shape for its tree), 500 for a broken invariant found in the data.
 */
export class CrossSeamGuardError extends RunplaneError {
  constructor(message: string, status: 422 | 500 = 500) {
    super("cross_seam_refused", message, status);
  }
}
