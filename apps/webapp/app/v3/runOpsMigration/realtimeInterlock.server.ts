import type { Env } from "~/env.server";
import { SplitRefusedError } from "./errors.server";

/**
 * Electric replicates only the control-plane database, so runs living in the run-ops database would
 * never reach its subscribers. Split therefore requires the native realtime backend.
 */
export function assertSplitRealtimeInterlock(options: {
  splitEnabled: boolean;
  realtimeBackend: Env["REALTIME_BACKEND"];
}): void {
  if (options.splitEnabled && options.realtimeBackend !== "native") {
    throw new SplitRefusedError(
      `Refusing to start: RUN_OPS_SPLIT_ENABLED is on but REALTIME_BACKEND=${options.realtimeBackend}. ` +
        `The electric backend cannot serve runs stored in RUN_OPS_DATABASE_URL; set REALTIME_BACKEND=native ` +
        `or turn RUN_OPS_SPLIT_ENABLED off.`
    );
  }
}
