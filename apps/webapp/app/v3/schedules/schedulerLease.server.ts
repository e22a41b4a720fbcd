import { randomUUID } from "node:crypto";
import { luaCommand, type LuaCommand } from "@runplane/redis-worker/jobs";
import type { Redis } from "ioredis";
import { acquireSchedulerLeaseLua, releaseSchedulerLeaseLua } from "./schedulerLease.lua";

/**
 * The scheduler's Redis lease: only its holder looks for due ticks, so a tick is fired by one
 * instance. The lease is a guard, not the guarantee: the trigger's idempotency key (schedule + tick)
 * still makes a second firing of the same tick answer the first run.
 */
export class SchedulerLease {
  readonly token: string;
  readonly #acquire: LuaCommand;
  readonly #release: LuaCommand;

  constructor(
    redis: Redis,
    private readonly key: string,
    private readonly ttlMs: number,
    token: string = randomUUID()
  ) {
    this.token = token;
    this.#acquire = luaCommand(redis, "runplaneSchedulerAcquireLease", acquireSchedulerLeaseLua);
    this.#release = luaCommand(redis, "runplaneSchedulerReleaseLease", releaseSchedulerLeaseLua);
  }

  /** Takes or renews the lease; false while another instance holds it. */
  async acquire(): Promise<boolean> {
    return (await this.#acquire([this.key], [this.token, this.ttlMs])) === 1;
  }

  async release(): Promise<boolean> {
    return (await this.#release([this.key], [this.token])) === 1;
  }
}
