/**
 * Cron schedules (`schedules.*` of the SDK).
 *
 * | route | request | response |
 * |---|---|---|
 * | POST   /api/v1/schedules | {@link CreateScheduleRequestBody} | {@link ScheduleObject} (an upsert when `deduplicationKey` matches) |
 * | GET    /api/v1/schedules?page=&perPage= | {@link ListSchedulesQuery} | {@link ListSchedulesResponse} |
 * | GET    /api/v1/schedules/{id} | — | {@link ScheduleObject} |
 * | PUT    /api/v1/schedules/{id} | {@link UpdateScheduleRequestBody} | {@link ScheduleObject} |
 * | DELETE /api/v1/schedules/{id} | — | {@link DeletedScheduleObject} |
 * | POST   /api/v1/schedules/{id}/activate, /deactivate | empty | {@link ScheduleObject} |
 * | GET    /api/v1/timezones[?excludeUtc=true] | no API key | {@link TimezonesResponse} |
 *
 * `cron` and `timezone` are checked by the webapp (it owns the cron library); a bad one is a 400 naming the field.
 */
import { z } from "zod";
import { WireDate, omitWhenNull } from "./common.js";

export const MAX_SCHEDULE_BODY_BYTES = 16 * 1024;
/** How many next ticks a scheduled run's payload lists in `upcoming`. */
export const SCHEDULE_UPCOMING_COUNT = 10;

export const ScheduleType = z.enum(["DECLARATIVE", "IMPERATIVE"]);
export type ScheduleType = z.infer<typeof ScheduleType>;

const ScheduleFields = {
  task: z.string().trim().min(1, "task is required").max(128),
  cron: z.string().trim().min(1, "cron is required").max(100),
  externalId: z.string().max(256).optional(),
  timezone: z.string().trim().min(1).max(64).optional(),
  /** Offsetting ticks within a window is not supported: refused rather than ignored. */
  window: z.undefined({ invalid_type_error: "window is not supported by this server" }).optional(),
};

export const CreateScheduleRequestBody = z.object({
  ...ScheduleFields,
  /** A second create with the same key in the environment updates that schedule. */
  deduplicationKey: z.string().min(1).max(256).optional(),
});
export type CreateScheduleRequestBody = z.output<typeof CreateScheduleRequestBody>;

export const UpdateScheduleRequestBody = z.object(ScheduleFields);
export type UpdateScheduleRequestBody = z.output<typeof UpdateScheduleRequestBody>;

export const ListSchedulesQuery = z.object({
  page: z.coerce.number({ invalid_type_error: "page must be a number" }).int().min(1).default(1),
  perPage: z.coerce.number({ invalid_type_error: "perPage must be a number" }).int().min(1).max(100).default(10),
});
export type ListSchedulesQuery = z.output<typeof ListSchedulesQuery>;

export const ScheduleObject = z.object({
  id: z.string(),
  type: ScheduleType,
  task: z.string(),
  active: z.boolean(),
  deduplicationKey: z.string().nullable(),
  externalId: z.string().nullable(),
  generator: z.object({ type: z.literal("CRON"), expression: z.string(), description: z.string() }),
  timezone: z.string(),
  nextRun: omitWhenNull(WireDate),
  environments: z.array(z.object({ id: z.string(), type: z.string(), userName: z.string().nullable() })),
});
export type ScheduleObject = z.input<typeof ScheduleObject>;

export const ListSchedulesResponse = z.object({
  data: z.array(ScheduleObject),
  pagination: z.object({ currentPage: z.number(), totalPages: z.number(), count: z.number() }),
});
export type ListSchedulesResponse = z.input<typeof ListSchedulesResponse>;

export const DeletedScheduleObject = z.object({ id: z.string() });

export const TimezonesQuery = z.object({ excludeUtc: z.enum(["true", "false"]).optional() });
export const TimezonesResponse = z.object({ timezones: z.array(z.string()) });

/**
 * The payload of a scheduled run, as trigger.dev sends it (dates as ISO strings; a task runtime turns
 * them back into Dates).
 */
export const ScheduledTaskPayload = z.object({
  scheduleId: z.string(),
  type: ScheduleType,
  timestamp: WireDate,
  lastTimestamp: omitWhenNull(WireDate),
  externalId: omitWhenNull(z.string()),
  timezone: z.string(),
  upcoming: z.array(WireDate),
});
export type ScheduledTaskPayload = z.input<typeof ScheduledTaskPayload>;
