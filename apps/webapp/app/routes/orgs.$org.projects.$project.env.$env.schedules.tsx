import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useSearchParams } from "@remix-run/react";
import { RunplaneError } from "@runplane/core";
import { CsrfInput } from "~/components/CsrfInput";
import { ErrorPage } from "~/components/ErrorPage";
import { Pagination } from "~/components/Pagination";
import { Time } from "~/components/Time";
import { presentSchedules, type ScheduleRow } from "~/presenters/dashboard/schedules.server";
import { requireCsrf, requireEnvironment } from "~/services/dashboardAuth.server";
import { ScheduleService } from "~/v3/schedules/scheduleService.server";

export const meta: MetaFunction = () => [{ title: "Schedules · Runplane" }];

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const scope = await requireEnvironment(context.runtime, request, params);
  return json(await presentSchedules(context.runtime, scope, new URL(request.url)));
}

const field = (form: FormData, name: string) => {
  const value = form.get(name);
  return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
};

/** create, update, activate, deactivate, delete (imperative schedules only), with the session's CSRF token. */
export async function action({ request, context, params }: ActionFunctionArgs) {
  const scope = await requireEnvironment(context.runtime, request, params);
  const form = await request.formData();
  requireCsrf(context.runtime, scope.session, form);
  const service = new ScheduleService(context.runtime);
  const environment = { id: scope.environment.id, projectId: scope.project.id };
  const intent = form.get("intent");
  const id = field(form, "id") ?? "";
  const fields = () => ({
    task: field(form, "task") ?? "",
    cron: field(form, "cron") ?? "",
    timezone: field(form, "timezone"),
    externalId: field(form, "externalId"),
  });
  try {
    switch (intent) {
      case "create": {
        const created = await service.create(environment, { ...fields(), deduplicationKey: field(form, "deduplicationKey") });
        return json({ ok: true as const, message: `Schedule ${created.friendlyId} saved.` });
      }
      case "update":
        await service.update(environment, id, fields());
        return json({ ok: true as const, message: `Schedule ${id} updated.` });
      case "activate":
      case "deactivate":
        await service.setActive(environment, id, intent === "activate");
        return json({ ok: true as const, message: `Schedule ${id} ${intent}d.` });
      case "delete":
        await service.delete(environment, id);
        return json({ ok: true as const, message: `Schedule ${id} deleted.` });
    }
  } catch (error) {
    if (error instanceof RunplaneError && error.status < 500) return json({ ok: false as const, message: error.message }, { status: error.status });
    context.runtime.logger.error("dashboard schedule action failed", { intent: String(intent), schedule: id, error });
    return json({ ok: false as const, message: "The action failed; the error has been logged on the server." }, { status: 500 });
  }
  return json({ ok: false as const, message: "Unknown action" }, { status: 400 });
}

function ScheduleForm({ taskOptions, schedule }: { taskOptions: string[]; schedule?: ScheduleRow }) {
  const tasks = schedule && !taskOptions.includes(schedule.task) ? [schedule.task, ...taskOptions] : taskOptions;
  return (
    <Form method="post" className="card-body schedule-form">
      <CsrfInput />
      <input type="hidden" name="intent" value={schedule ? "update" : "create"} />
      {schedule ? <input type="hidden" name="id" value={schedule.id} /> : null}
      <label>
        Task{" "}
        <select name="task" defaultValue={schedule?.task} required>
          {tasks.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
      </label>{" "}
      <label>
        Cron <input name="cron" defaultValue={schedule?.cron ?? "0 * * * *"} required placeholder="0 * * * *" className="mono" />
      </label>{" "}
      <label>
        Timezone <input name="timezone" defaultValue={schedule?.timezone ?? "UTC"} placeholder="UTC" />
      </label>{" "}
      <label>
        External id <input name="externalId" defaultValue={schedule?.externalId ?? ""} />
      </label>{" "}
      {schedule ? null : (
        <label>
          Deduplication key <input name="deduplicationKey" />
        </label>
      )}{" "}
      <button type="submit" className="button primary">
        {schedule ? "Save" : "Create schedule"}
      </button>
      {schedule ? (
        <Link to="?" className="button">
          Cancel
        </Link>
      ) : null}
    </Form>
  );
}

function RowActions({ row }: { row: ScheduleRow }) {
  if (row.type === "DECLARATIVE") return <span className="faint" title="Defined in code with schedules.task({ cron }): change it there">declarative</span>;
  return (
    <span className="actions">
      <Link to={`?edit=${encodeURIComponent(row.id)}`} className="button">
        Edit
      </Link>
      {(["activate", "deactivate", "delete"] as const)
        .filter((intent) => (intent === "activate" ? !row.active : intent === "deactivate" ? row.active : true))
        .map((intent) => (
          <Form method="post" className="inline" key={intent}>
            <CsrfInput />
            <input type="hidden" name="intent" value={intent} />
            <input type="hidden" name="id" value={row.id} />
            <button type="submit" className={intent === "delete" ? "button danger" : "button"}>
              {intent[0]!.toUpperCase() + intent.slice(1)}
            </button>
          </Form>
        ))}
    </span>
  );
}

export default function SchedulesPage() {
  const page = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const [search] = useSearchParams();
  const editing = page.rows.find((r) => r.id === search.get("edit") && r.type === "IMPERATIVE");
  return (
    <>
      <div className="page-header">
        <h1>Schedules</h1>
        <span className="page-subtitle">
          as of <Time value={page.refreshedAt} />
        </span>
      </div>
      {result ? <div className={`callout ${result.ok ? "info" : "error"}`}>{result.message}</div> : null}
      <section className="card">
        <div className="card-header">
          <h2>{editing ? `Edit ${editing.id}` : "New schedule"}</h2>
        </div>
        {page.taskOptions.length === 0 && !editing ? (
          <div className="note">Register a worker first: a schedule runs one of its tasks.</div>
        ) : (
          <ScheduleForm key={editing?.id ?? "new"} taskOptions={page.taskOptions} schedule={editing} />
        )}
      </section>
      <section className="card">
        {page.rows.length === 0 ? (
          <div className="empty">
            <strong>No schedules yet</strong>
            Create one above, through the API (<span className="mono">schedules.create</span>), or with{" "}
            <span className="mono">schedules.task({"{ cron }"})</span> in code.
          </div>
        ) : (
          <div className="table-wrap">
            <table className="data">
              <thead>
                <tr>
                  <th>Schedule</th>
                  <th>Task</th>
                  <th>Cron</th>
                  <th>Timezone</th>
                  <th>Next five</th>
                  <th>State</th>
                  <th>Last run</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {page.rows.map((row) => (
                  <tr key={row.id}>
                    <td>
                      <span className="mono">{row.id}</span>
                      {row.externalId ? <div className="faint">external id {row.externalId}</div> : null}
                      {row.deduplicationKey ? <div className="faint">key {row.deduplicationKey}</div> : null}
                    </td>
                    <td className="mono">{row.task}</td>
                    <td>
                      {row.description}
                      <div className="faint mono">{row.cron}</div>
                    </td>
                    <td>{row.timezone}</td>
                    <td>
                      {row.upcoming.length === 0 ? (
                        <span className="faint">—</span>
                      ) : (
                        row.upcoming.map((t) => (
                          <div key={t!.iso}>
                            <Time value={t} />
                          </div>
                        ))
                      )}
                    </td>
                    <td>{row.active ? <span className="badge status-COMPLETED">Active</span> : <span className="badge badge-paused">Inactive</span>}</td>
                    <td>
                      {row.lastRun ? (
                        <>
                          <Link to={row.lastRun.href} className="mono">
                            {row.lastRun.id}
                          </Link>
                          <div className="faint">
                            tick <Time value={row.lastRun.tick} />
                          </div>
                        </>
                      ) : (
                        <span className="faint">never</span>
                      )}
                      <div>
                        <Link to={row.runsHref}>All runs</Link>
                      </div>
                    </td>
                    <td className="num">
                      <RowActions row={row} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {page.pageCount > 1 ? (
          <Pagination
            summary={`Page ${page.page} of ${page.pageCount}`}
            previousHref={page.page > 1 ? `?page=${page.page - 1}` : null}
            nextHref={page.page < page.pageCount ? `?page=${page.page + 1}` : null}
          />
        ) : null}
      </section>
    </>
  );
}

export function ErrorBoundary() {
  return <ErrorPage />;
}
