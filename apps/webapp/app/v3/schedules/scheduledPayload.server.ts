import { SCHEDULE_UPCOMING_COUNT, ScheduledTaskPayload } from "@runplane/core/schemas";
import type { TaskSchedule } from "@internal/database";
import { nextTicks, type CronSpec } from "./cron.server";

/** What a scheduled run receives, as trigger.dev sends it: the tick, the previous one, and the next ten. */
export function buildScheduledPayload(
  schedule: Pick<TaskSchedule, "friendlyId" | "type" | "externalId" | "lastTickAt">,
  spec: CronSpec,
  tick: Date
): ScheduledTaskPayload {
  return ScheduledTaskPayload.parse({
    scheduleId: schedule.friendlyId,
    type: schedule.type,
    timestamp: tick,
    lastTimestamp: schedule.lastTickAt,
    externalId: schedule.externalId,
    timezone: spec.timezone,
    upcoming: nextTicks(spec, tick, SCHEDULE_UPCOMING_COUNT),
  });
}

/** The trigger's idempotency key: one run per schedule and tick, whoever fires it and however often. */
export function scheduleTickIdempotencyKey(scheduleFriendlyId: string, tick: Date): string {
  return `${scheduleRunsKeyPrefix(scheduleFriendlyId)}${tick.toISOString()}`;
}

/** What every run of one schedule has its idempotency key start with (the dashboard's runs filter). */
export function scheduleRunsKeyPrefix(scheduleFriendlyId: string): string {
  return `schedule:${scheduleFriendlyId}:`;
}

/** The schedule (friendly id) that fired a run, from the run's idempotency key; null for other runs. */
export function scheduleIdOfRunKey(idempotencyKey: string | null | undefined): string | null {
  const match = idempotencyKey ? /^schedule:(sched_[A-Za-z0-9]+):/.exec(idempotencyKey) : null;
  return match ? match[1]! : null;
}
