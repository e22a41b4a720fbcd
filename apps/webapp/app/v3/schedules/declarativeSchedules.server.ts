import type { ControlPlaneClient } from "@internal/database";
import { generateInternalId, toFriendlyId } from "@runplane/core";
import { nextTick, parseCronSpec, type CronSpec } from "./cron.server";
import type { Clock } from "./scheduler.server";

/** One `schedules.task({ cron })` of a worker version, from any task runtime. */
export type DeclarativeScheduleInput = { taskId: string; cron: string; timezone?: string | null };

export type DeclarativeRegistration = {
  environment: { id: string; projectId: string };
  /** The worker version just registered (BackgroundWorker.id). */
  workerId: string;
  /** Every declarative schedule that version defines (an empty list removes them all). */
  schedules: DeclarativeScheduleInput[];
};

export type DeclarativeSyncResult =
  | { applied: false; reason: "not_newest_version" }
  | { applied: true; created: string[]; updated: string[]; removed: string[] };

/**
 * Checks every cron and timezone of a worker version before anything is written; a bad one is a 400
 * naming the task. Call it before registering the version, so a refused registration changes nothing.
 */
export function validateDeclarativeSchedules(schedules: DeclarativeScheduleInput[]): Map<string, CronSpec> {
  const specs = new Map<string, CronSpec>();
  for (const schedule of schedules) {
    specs.set(schedule.taskId, parseCronSpec(schedule.cron, schedule.timezone ?? undefined, `task "${schedule.taskId}" schedule.`));
  }
  return specs;
}

/**
 * Makes the environment's declarative schedules those of its newest worker version: creates the new
 * ones, updates a changed cron or timezone (restarting at the next tick), removes those the version no
 * longer defines. Registering an older version again changes nothing. An unchanged schedule keeps
 * its next tick and active state. Used by the worker protocol's register route; any other task
 * runtime registering workers calls it with its own list after registering the version.
 */
export async function registerDeclarativeSchedules(
  deps: { prisma: ControlPlaneClient; clock?: Clock },
  registration: DeclarativeRegistration
): Promise<DeclarativeSyncResult> {
  const specs = validateDeclarativeSchedules(registration.schedules);
  const now = (deps.clock ?? (() => new Date()))();
  const { environment } = registration;

  return deps.prisma.$transaction(async (tx) => {
    // Serialises registrations of one environment, so two versions never interleave their syncs.
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`declarative-schedules:${environment.id}`}))`;
    const newest = await tx.backgroundWorker.findFirst({
      where: { runtimeEnvironmentId: environment.id },
      orderBy: { createdAt: "desc" },
      select: { id: true },
    });
    if (newest?.id !== registration.workerId) return { applied: false, reason: "not_newest_version" } as const;

    const existing = await tx.taskSchedule.findMany({ where: { runtimeEnvironmentId: environment.id, type: "DECLARATIVE" } });
    const byTask = new Map(existing.map((row) => [row.taskIdentifier, row]));
    const result = { applied: true as const, created: [] as string[], updated: [] as string[], removed: [] as string[] };

    for (const [taskId, spec] of specs) {
      const row = byTask.get(taskId);
      if (!row) {
        const id = generateInternalId();
    const friendlyId = toFriendlyId("sched", id);
        await tx.taskSchedule.create({
          data: {
            id,
            friendlyId,
            type: "DECLARATIVE",
            taskIdentifier: taskId,
            cron: spec.cron,
            timezone: spec.timezone,
            active: true,
            nextTickAt: nextTick(spec, now),
            runtimeEnvironmentId: environment.id,
            projectId: environment.projectId,
          },
        });
        result.created.push(taskId);
      } else if (row.cron !== spec.cron || row.timezone !== spec.timezone) {
        await tx.taskSchedule.update({
          where: { id: row.id },
          data: { cron: spec.cron, timezone: spec.timezone, nextTickAt: row.active ? nextTick(spec, now) : null },
        });
        result.updated.push(taskId);
      }
    }
    const dropped = existing.filter((row) => !specs.has(row.taskIdentifier));
    if (dropped.length > 0) {
      await tx.taskSchedule.deleteMany({ where: { id: { in: dropped.map((row) => row.id) } } });
      result.removed.push(...dropped.map((row) => row.taskIdentifier));
    }
    return result;
  });
}
