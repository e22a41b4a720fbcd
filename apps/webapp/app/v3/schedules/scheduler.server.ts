import type { ControlPlaneClient, TaskSchedule } from "@internal/database";
import type { AuthenticatedEnvironment, ControlPlaneResolver } from "@internal/database/resolver";
import type { Logger } from "~/services/logger.server";
import { dueTick, type CronSpec } from "./cron.server";
import { buildScheduledPayload, scheduleTickIdempotencyKey } from "./scheduledPayload.server";
import type { SchedulerLease } from "./schedulerLease.server";
import type { SchedulerMetrics } from "./schedulerMetrics.server";

/** The scheduler's view of time; tests inject one they move by hand. */
export type Clock = () => Date;

/** The normal trigger path (TriggerTaskService), narrowed to what a tick needs. */
export type ScheduleTrigger = (request: {
  environment: AuthenticatedEnvironment;
  taskIdentifier: string;
  payload: unknown;
  options: { idempotencyKey: string };
}) => Promise<{ friendlyId: string; isCached: boolean }>;

export type SchedulerDeps = {
  prisma: ControlPlaneClient;
  resolver: ControlPlaneResolver;
  trigger: ScheduleTrigger;
  lease: SchedulerLease;
  metrics: SchedulerMetrics;
  logger: Logger;
  clock?: Clock;
  /** Due schedules handled per pass; a full batch asks for another pass at once. */
  batchSize?: number;
  /** Ticks of a pass triggered in parallel. */
  concurrency?: number;
};

export type TickOutcome =
  | { kind: "fired"; scheduleId: string; tick: Date; runId: string; isCached: boolean; missed: number }
  | { kind: "skipped"; scheduleId: string; tick: Date; reason: "environment_paused" | "environment_gone" };

export type PassResult = { leaseHeld: boolean; outcomes: TickOutcome[]; more: boolean };

/**
 * One pass of the scheduler: with the lease, fire every schedule whose stored next tick is due.
 * Each tick goes through the normal trigger path with the idempotency key schedule + tick, and only
 * then is the next tick stored — a crash between the two re-fires the same tick, which answers the
 * run already made. After downtime only the latest missed tick fires (see `dueTick`). A paused or
 * archived environment skips its ticks; inactive schedules are not due at all.
 */
export class Scheduler {
  private readonly clock: Clock;
  private readonly batchSize: number;
  private readonly concurrency: number;

  constructor(private readonly deps: SchedulerDeps) {
    this.clock = deps.clock ?? (() => new Date());
    this.batchSize = deps.batchSize ?? 100;
    this.concurrency = Math.max(1, deps.concurrency ?? 10);
  }

  async runPass(): Promise<PassResult> {
    if (!(await this.deps.lease.acquire())) return { leaseHeld: false, outcomes: [], more: false };
    const now = this.clock();
    const due = await this.deps.prisma.taskSchedule.findMany({
      where: { active: true, nextTickAt: { lte: now } },
      orderBy: { nextTickAt: "asc" },
      take: this.batchSize,
    });
    const outcomes: TickOutcome[] = [];
    let cursor = 0;
    const lane = async () => {
      while (cursor < due.length) {
        const schedule = due[cursor++]!;
        try {
          const outcome = await this.fire(schedule, now);
          if (outcome) outcomes.push(outcome);
        } catch (error) {
          // Left due: the next pass retries it (the idempotency key keeps that to one run).
          this.deps.logger.warn("schedule tick failed; retrying on the next pass", {
            scheduleId: schedule.friendlyId,
            error: error instanceof Error ? error.message : String(error),
          });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, due.length) }, lane));
    return { leaseHeld: true, outcomes, more: due.length === this.batchSize };
  }

  private async fire(schedule: TaskSchedule, now: Date): Promise<TickOutcome | undefined> {
    const dueAt = schedule.nextTickAt!;
    const spec: CronSpec = { cron: schedule.cron, timezone: schedule.timezone };
    const { tick, missed, next } = dueTick(spec, dueAt, now);
    this.deps.metrics.ticksSkipped(missed, "missed");

    const environment = await this.deps.resolver.resolveAuthenticatedEnv(schedule.runtimeEnvironmentId);
    if (!environment || environment.archivedAt || environment.paused) {
      const reason = environment && !environment.archivedAt ? "environment_paused" : "environment_gone";
      if (!(await this.advance(schedule, { nextTickAt: next }))) return undefined;
      this.deps.metrics.ticksSkipped(1, reason);
      return { kind: "skipped", scheduleId: schedule.friendlyId, tick, reason };
    }

    const run = await this.deps.trigger({
      environment,
      taskIdentifier: schedule.taskIdentifier,
      payload: buildScheduledPayload(schedule, spec, tick),
      options: { idempotencyKey: scheduleTickIdempotencyKey(schedule.friendlyId, tick) },
    });
    if (!(await this.advance(schedule, { nextTickAt: next, lastTickAt: tick, lastRunFriendlyId: run.friendlyId }))) return undefined;
    this.deps.metrics.tickFired(now.getTime() - tick.getTime());
    return { kind: "fired", scheduleId: schedule.friendlyId, tick, runId: run.friendlyId, isCached: run.isCached, missed };
  }

  /** Stores the next tick unless the row changed since it was read (edited, deactivated, or another firing). */
  private async advance(
    schedule: TaskSchedule,
    data: { nextTickAt: Date | null; lastTickAt?: Date; lastRunFriendlyId?: string }
  ): Promise<boolean> {
    const { count } = await this.deps.prisma.taskSchedule.updateMany({
      where: { id: schedule.id, nextTickAt: schedule.nextTickAt, cron: schedule.cron, timezone: schedule.timezone, active: true },
      data,
    });
    return count === 1;
  }
}

