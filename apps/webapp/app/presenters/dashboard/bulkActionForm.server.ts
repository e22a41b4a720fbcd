import { ValidationError } from "@runplane/core";
import type { CreateBulkActionRequestBody } from "@runplane/core/schemas";
import { parseRunListFilters } from "./runList.server";

/**
 * The runs page's bulk form → an API create body: the ticked runs (`scope=selected`), or every run
 * matching the page's filters (`scope=filter`, the same parameters the list uses).
 */
export function bulkActionBodyFromForm(form: FormData): CreateBulkActionRequestBody {
  const intent = form.get("intent");
  if (intent !== "cancel" && intent !== "replay") throw new ValidationError("Choose cancel or replay");
  if (form.get("scope") === "filter") {
    const params = new URLSearchParams();
    for (const [key, value] of form.entries()) if (typeof value === "string") params.append(key, value);
    const filters = parseRunListFilters(params);
    return {
      action: intent,
      filter: {
        status: filters.statuses.length > 0 ? filters.statuses : undefined,
        taskIdentifier: filters.task,
        tag: filters.tag,
        queue: filters.queue,
        batch: filters.batch,
        period: filters.period === "all" ? undefined : filters.period,
        // "all time" with no other filter: everything created until now
        to: new Date(),
      },
    };
  }
  const runIds = form.getAll("runIds").filter((v): v is string => typeof v === "string" && v.startsWith("run_"));
  if (runIds.length === 0) throw new ValidationError("Select at least one run, or choose all runs matching the filters");
  return { action: intent, runIds };
}
