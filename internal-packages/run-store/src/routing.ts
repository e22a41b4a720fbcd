import { classifyIdShape, classifyResidency, type Residency } from "@runplane/core";
import type { RunTablesClient } from "./types.js";

export type RunStoreDatabases = {
  /** The control-plane database: home of LEGACY (cuid) rows, and of everything when split is off. */
  legacy: RunTablesClient;
  /** The run-ops database: home of NEW (ksuid) rows. Only used when split is on. */
  runOps?: RunTablesClient;
  splitEnabled: boolean;
  /**
   * Called when split is off and an id of the NEW (run-ops) shape is routed: such a row can only live
   * in the run-ops database, which this store does not read. May throw (e.g. RunOpsDataUnavailableError
   * when the run-ops database is known to hold runs); when it returns, the legacy database is read.
   * Default: a warning, so the read is never silently answered "absent".
   */
  onNewIdWhileSplitOff?: (id: string) => void;
  /** Diagnostics of the routing layer (cross-seam guard). Default: JSON lines on stderr for warn/error. */
  log?: RunStoreLog;
};

export type RunStoreLog = (level: "info" | "warn" | "error", message: string, fields: Record<string, unknown>) => void;

export const consoleRunStoreLog: RunStoreLog = (level, message, fields) => {
  if (level === "info") return;
  console.error(JSON.stringify({ level, msg: message, component: "run-store", ...fields }));
};

function defaultNewIdWhileSplitOff(log: RunStoreLog): (id: string) => void {
  return (id) =>
    log("warn", "run-ops id requested while split is off; reading the control-plane database, where it cannot live", { id });
}

/**
 * Decides which database owns an id. With split off everything lives in the legacy database.
 * Unclassifiable ids are read from run-ops first, then legacy (see `readOrder`).
 */
export class RunRouter {
  readonly log: RunStoreLog;
  readonly #onNewIdWhileSplitOff: (id: string) => void;

  constructor(private readonly dbs: RunStoreDatabases) {
    if (dbs.splitEnabled && !dbs.runOps) throw new Error("RunStore: split enabled without a run-ops client");
    this.log = dbs.log ?? consoleRunStoreLog;
    this.#onNewIdWhileSplitOff = dbs.onNewIdWhileSplitOff ?? defaultNewIdWhileSplitOff(this.log);
  }

  /** Split off and a NEW-shaped id: tell the policy (which may refuse) before answering from legacy. */
  #checkSplitOff(id: string): void {
    if (!this.dbs.splitEnabled && classifyIdShape(id).residency === "NEW") this.#onNewIdWhileSplitOff(id);
  }

  get splitEnabled(): boolean {
    return this.dbs.splitEnabled;
  }

  client(residency: Residency): RunTablesClient {
    return residency === "NEW" && this.dbs.splitEnabled ? this.dbs.runOps! : this.dbs.legacy;
  }

  /** The owning (primary) database for writes and read-your-writes. */
  clientForId(id: string): RunTablesClient {
    this.#checkSplitOff(id);
    return this.client(classifyResidency(id));
  }

  residencyOf(id: string): Residency {
    return this.dbs.splitEnabled ? classifyResidency(id) : "LEGACY";
  }

  /** Databases to try, in order, when reading an id. */
  readOrder(id: string): RunTablesClient[] {
    if (!this.dbs.splitEnabled) {
      this.#checkSplitOff(id);
      return [this.dbs.legacy];
    }
    const { shape, residency } = classifyIdShape(id);
    if (shape === null) return [this.dbs.runOps!, this.dbs.legacy];
    return [this.client(residency)];
  }

  /** Every database holding run tables (one when split is off). */
  all(): RunTablesClient[] {
    return this.dbs.splitEnabled ? [this.dbs.runOps!, this.dbs.legacy] : [this.dbs.legacy];
  }
}
