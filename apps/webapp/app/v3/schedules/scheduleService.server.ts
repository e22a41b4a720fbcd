import type { ControlPlaneClient, TaskSchedule } from "@internal/database";
import type { ControlPlaneResolver } from "@internal/database/resolver";
import { generateInternalId, NotFoundError, toFriendlyId, UnprocessableError, ValidationError } from "@runplane/core";
import type { CreateScheduleRequestBody, UpdateScheduleRequestBody } from "@runplane/core/schemas";
import { nextTick, parseCronSpec } from "./cron.server";
import type { Clock } from "./scheduler.server";

export type ScheduleEnvironment = { id: string; projectId: string };

export type ScheduleServiceDeps = { prisma: ControlPlaneClient; resolver: ControlPlaneResolver; clock?: Clock };

/**
 * Imperative schedules (API and dashboard): create (an upsert by `deduplicationKey`), update,
 * activate, deactivate, delete — always within the caller's environment (another environment's id is
 * a 404). Declarative schedules are changed only by registering a worker, so they are refused here.
 * A changed cron or timezone, or a re-activation, restarts the schedule at its first tick after now.
 */
export class ScheduleService {
  private readonly clock: Clock;

  constructor(private readonly deps: ScheduleServiceDeps) {
    this.clock = deps.clock ?? (() => new Date());
  }

  async create(environment: ScheduleEnvironment, body: CreateScheduleRequestBody): Promise<TaskSchedule> {
    const spec = parseCronSpec(body.cron, body.timezone);
    await this.requireTask(environment, body.task);
    const fields = {
      taskIdentifier: body.task,
      cron: spec.cron,
      timezone: spec.timezone,
      externalId: body.externalId ?? null,
    };
    if (body.deduplicationKey) {
      const existing = await this.deps.prisma.taskSchedule.findUnique({
        where: { runtimeEnvironmentId_deduplicationKey: { runtimeEnvironmentId: environment.id, deduplicationKey: body.deduplicationKey } },
      });
      if (existing) return this.write(existing, fields);
    }
    const id = generateInternalId();
    const friendlyId = toFriendlyId("sched", id);
    const created = this.deps.prisma.taskSchedule.create({
      data: {
        id,
        friendlyId,
        type: "IMPERATIVE",
        ...fields,
        deduplicationKey: body.deduplicationKey ?? null,
        active: true,
        nextTickAt: nextTick(spec, this.clock()),
        runtimeEnvironmentId: environment.id,
        projectId: environment.projectId,
      },
    });
    return created.catch(async (error: unknown) => {
      // A concurrent create with the same deduplication key won: update that one instead.
      if (!body.deduplicationKey || (error as { code?: string }).code !== "P2002") throw error;
      return this.create(environment, body);
    });
  }

  async update(environment: ScheduleEnvironment, scheduleId: string, body: UpdateScheduleRequestBody): Promise<TaskSchedule> {
    const spec = parseCronSpec(body.cron, body.timezone);
    const schedule = await this.requireImperative(environment, scheduleId, "updated");
    await this.requireTask(environment, body.task);
    return this.write(schedule, {
      taskIdentifier: body.task,
      cron: spec.cron,
      timezone: spec.timezone,
      externalId: body.externalId === undefined ? schedule.externalId : body.externalId,
    });
  }

  async setActive(environment: ScheduleEnvironment, scheduleId: string, active: boolean): Promise<TaskSchedule> {
    const schedule = await this.requireImperative(environment, scheduleId, active ? "activated" : "deactivated");
    if (schedule.active === active) return schedule;
    const nextTickAt = active ? nextTick({ cron: schedule.cron, timezone: schedule.timezone }, this.clock()) : null;
    return this.deps.prisma.taskSchedule.update({ where: { id: schedule.id }, data: { active, nextTickAt } });
  }

  async delete(environment: ScheduleEnvironment, scheduleId: string): Promise<{ id: string }> {
    const schedule = await this.requireImperative(environment, scheduleId, "deleted");
    await this.deps.prisma.taskSchedule.deleteMany({ where: { id: schedule.id } });
    return { id: schedule.friendlyId };
  }

  /** A schedule of the environment by friendly id; 404 otherwise (whoever else owns it). */
  async find(environment: ScheduleEnvironment, scheduleId: string): Promise<TaskSchedule> {
    const schedule = await this.deps.prisma.taskSchedule.findUnique({ where: { friendlyId: scheduleId } });
    if (!schedule || schedule.runtimeEnvironmentId !== environment.id) throw new NotFoundError(`Schedule ${scheduleId} not found`);
    return schedule;
  }

  private async requireImperative(environment: ScheduleEnvironment, scheduleId: string, verb: string): Promise<TaskSchedule> {
    const schedule = await this.find(environment, scheduleId);
    if (schedule.type === "DECLARATIVE") {
      throw new UnprocessableError(`Schedule ${scheduleId} is declarative (schedules.task with cron): it can only be ${verb} by changing the task's code`);
    }
    return schedule;
  }

  /** The task must be defined by the environment's current worker version. */
  private async requireTask(environment: ScheduleEnvironment, taskIdentifier: string): Promise<void> {
    const version = await this.deps.resolver.resolveWorkerVersion(environment.id);
    if (!version?.tasks.some((task) => task.slug === taskIdentifier)) {
      throw new ValidationError(`task: no task "${taskIdentifier}" in this environment's current worker version`);
    }
  }

  private write(
    schedule: TaskSchedule,
    fields: { taskIdentifier: string; cron: string; timezone: string; externalId: string | null }
  ): Promise<TaskSchedule> {
    const timingChanged = fields.cron !== schedule.cron || fields.timezone !== schedule.timezone;
    const nextTickAt = timingChanged && schedule.active ? nextTick({ cron: fields.cron, timezone: fields.timezone }, this.clock()) : schedule.nextTickAt;
    return this.deps.prisma.taskSchedule.update({ where: { id: schedule.id }, data: { ...fields, nextTickAt } });
  }
}
