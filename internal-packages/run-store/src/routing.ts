import { classifyIdShape, classifyResidency, type Residency } from "@runplane/core";
import type { RunTablesClient } from "./types.js";

export type RunStoreDatabases = {
  /** The control-plane database: home of LEGACY (cuid) rows, and of everything when split is off. */
  legacy: RunTablesClient;
  /** The run-ops database: home of NEW (ksuid) rows. Only used when split is on. */
  runOps?: RunTablesClient;
  splitEnabled: boolean;
};

/**
 * Decides which database owns an id. With split off everything lives in the legacy database.
 * Unclassifiable ids are read from run-ops first, then legacy (see `readOrder`).
 */
export class RunRouter {
  constructor(private readonly dbs: RunStoreDatabases) {
    if (dbs.splitEnabled && !dbs.runOps) throw new Error("RunStore: split enabled without a run-ops client");
  }

  get splitEnabled(): boolean {
    return this.dbs.splitEnabled;
  }

  client(residency: Residency): RunTablesClient {
    return residency === "NEW" && this.dbs.splitEnabled ? this.dbs.runOps! : this.dbs.legacy;
  }

  /** The owning (primary) database for writes and read-your-writes. */
  clientForId(id: string): RunTablesClient {
    return this.client(classifyResidency(id));
  }

  residencyOf(id: string): Residency {
    return this.dbs.splitEnabled ? classifyResidency(id) : "LEGACY";
  }

  /** Databases to try, in order, when reading an id. */
  readOrder(id: string): RunTablesClient[] {
    if (!this.dbs.splitEnabled) return [this.dbs.legacy];
    const { shape, residency } = classifyIdShape(id);
    if (shape === null) return [this.dbs.runOps!, this.dbs.legacy];
    return [this.client(residency)];
  }

  /** Every database holding run tables (one when split is off). */
  all(): RunTablesClient[] {
    return this.dbs.splitEnabled ? [this.dbs.runOps!, this.dbs.legacy] : [this.dbs.legacy];
  }
}
