/**
 * Bulk actions: `POST /api/v1/bulk-actions` (cancel or replay, by run ids or by a filter) → `{ id }`;
 * `GET /api/v1/bulk-actions` (cursor pages), `GET /api/v1/bulk-actions/{id}`,
 * `POST /api/v1/bulk-actions/{id}/abort` → `{ id }`. Shapes as the published SDK's `runs.bulk.*`.
 */
import { z } from "zod";
import { PublicRunStatus } from "../runStatus.js";
import { MachinePresetName } from "./common.js";

const StringOrStringArray = z.union([z.string(), z.array(z.string())]);
const DateOrNumber = z.union([z.coerce.date(), z.number()]);

function nonEmpty(value: unknown): boolean {
  if (value === undefined) return false;
  if (Array.isArray(value)) return value.some(nonEmpty);
  if (typeof value === "string") return value.trim().length > 0;
  return true;
}

export const BulkActionFilter = z
  .object({
    status: z.union([PublicRunStatus, z.array(PublicRunStatus)]).optional(),
    taskIdentifier: StringOrStringArray.optional(),
    version: StringOrStringArray.optional(),
    from: DateOrNumber.optional(),
    to: DateOrNumber.optional(),
    period: z.string().optional(),
    bulkAction: z.string().optional(),
    tag: StringOrStringArray.optional(),
    schedule: z.string().optional(),
    isTest: z.boolean().optional(),
    batch: z.string().optional(),
    queue: StringOrStringArray.optional(),
    machine: z.union([MachinePresetName, z.array(MachinePresetName)]).optional(),
    region: StringOrStringArray.optional(),
  })
  .refine((filter) => Object.values(filter).some(nonEmpty), { message: "At least one filter must be provided" });
export type BulkActionFilter = z.output<typeof BulkActionFilter>;

export const MAX_BULK_ACTION_RUN_IDS = 10_000;

export const CreateBulkActionRequestBody = z
  .object({
    action: z.enum(["cancel", "replay"]),
    filter: BulkActionFilter.optional(),
    runIds: z.array(z.string().min(1)).min(1).max(MAX_BULK_ACTION_RUN_IDS).optional(),
    name: z.string().max(255, "Name must be less than 255 characters").optional(),
    targetRegion: z.string().optional(),
  })
  .refine((body) => (body.filter ? 1 : 0) + (body.runIds ? 1 : 0) === 1, { message: "Exactly one of filter or runIds must be provided" });
export type CreateBulkActionRequestBody = z.output<typeof CreateBulkActionRequestBody>;

export const BulkActionStatus = z.enum(["PENDING", "COMPLETED", "ABORTED"]);
export const BulkActionType = z.enum(["CANCEL", "REPLAY"]);

export const BulkActionObject = z.object({
  id: z.string(),
  name: z.string().optional(),
  type: BulkActionType,
  status: BulkActionStatus,
  counts: z.object({ total: z.number(), success: z.number(), failure: z.number() }),
  createdAt: z.coerce.date(),
  completedAt: z.coerce.date().optional(),
});
export type BulkActionObject = z.input<typeof BulkActionObject>;

export const CreateBulkActionResponseBody = z.object({ id: z.string() });
