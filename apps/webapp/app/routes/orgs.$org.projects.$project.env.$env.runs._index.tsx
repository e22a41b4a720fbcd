import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json } from "@remix-run/node";
import { Form, Link, useLoaderData } from "@remix-run/react";
import { ErrorPage } from "~/components/ErrorPage";
import { Pagination } from "~/components/Pagination";
import { BufferedBadge, StatusBadge, statusLabel } from "~/components/StatusBadge";
import { Time } from "~/components/Time";
import { useAutoRefresh } from "~/components/useAutoRefresh";
import { CsrfInput } from "~/components/CsrfInput";
import { envPath } from "~/presenters/dashboard/paths";
import { presentRunList } from "~/presenters/dashboard/runList.server";
import { requireEnvironment } from "~/services/dashboardAuth.server";

export const meta: MetaFunction = () => [{ title: "Runs · Runplane" }];

const REFRESH_MS = 5_000;

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const scope = await requireEnvironment(context.runtime, request, params);
  return json({ ...(await presentRunList(context.runtime, scope, new URL(request.url))), bulkActionsHref: `${envPath(scope)}/bulk-actions` });
}

/** Cancel or replay the ticked runs, or every run matching the current filters (posted to the bulk actions page). */
function BulkActionForm({ action, filters }: { action: string; filters: { statuses: string[]; task?: string; tag?: string; queue?: string; batch?: string; period: string } }) {
  return (
    <Form method="post" action={action} id="bulk-form" className="filters" aria-label="Bulk action" data-bulk-form>
      <CsrfInput />
      {filters.statuses.map((status) => (
        <input key={status} type="hidden" name="statuses" value={status} />
      ))}
      {filters.task ? <input type="hidden" name="task" value={filters.task} /> : null}
      {filters.tag ? <input type="hidden" name="tag" value={filters.tag} /> : null}
      {filters.queue ? <input type="hidden" name="queue" value={filters.queue} /> : null}
      {filters.batch ? <input type="hidden" name="batch" value={filters.batch} /> : null}
      <input type="hidden" name="period" value={filters.period} />
      <select name="scope" aria-label="Which runs" defaultValue="selected">
        <option value="selected">Selected runs</option>
        <option value="filter">All runs matching these filters</option>
      </select>
      <button type="submit" name="intent" value="cancel" className="button danger">
        Cancel…
      </button>
      <button type="submit" name="intent" value="replay" className="button">
        Replay…
      </button>
    </Form>
  );
}

const PERIOD_LABELS: Record<string, string> = {
  "1h": "Last hour",
  "6h": "Last 6 hours",
  "24h": "Last 24 hours",
  "7d": "Last 7 days",
  "30d": "Last 30 days",
  all: "All time",
};

export default function RunsPage() {
  const page = useLoaderData<typeof loader>();
  useAutoRefresh(REFRESH_MS);
  const { filters } = page;
  return (
    <>
      <noscript>
        <meta httpEquiv="refresh" content="10" />
      </noscript>
      <div className="page-header">
        <h1>Runs</h1>
        <span className="live" title={`Refreshes every ${REFRESH_MS / 1000} seconds`}>
          Live · <Time value={page.refreshedAt} />
        </span>
      </div>
      <section className="card">
        <Form method="get" className="filters" aria-label="Filters">
          <details className="multi-select" data-dropdown>
            <summary>
              {filters.statuses.length === 0
                ? "All statuses"
                : filters.statuses.length === 1
                  ? statusLabel(filters.statuses[0])
                  : `${filters.statuses.length} statuses`}
            </summary>
            <div className="multi-select-menu">
              {page.statusOptions.map((status) => (
                <label key={status}>
                  <input type="checkbox" name="statuses" value={status} defaultChecked={filters.statuses.includes(status)} />
                  {statusLabel(status)}
                </label>
              ))}
            </div>
          </details>
          <input type="search" name="task" placeholder="Task" list="task-options" defaultValue={filters.task ?? ""} aria-label="Task" />
          <datalist id="task-options">
            {page.taskOptions.map((task) => (
              <option key={task} value={task} />
            ))}
          </datalist>
          <input type="search" name="tag" placeholder="Tag" defaultValue={filters.tag ?? ""} aria-label="Tag" />
          <select name="period" defaultValue={filters.period} aria-label="Period">
            {page.periodOptions.map((period) => (
              <option key={period} value={period}>
                {PERIOD_LABELS[period] ?? period}
              </option>
            ))}
          </select>
          {filters.batch ? <input type="hidden" name="batch" value={filters.batch} /> : null}
          {filters.queue ? <input type="hidden" name="queue" value={filters.queue} /> : null}
          <button type="submit" className="button">
            Apply
          </button>
          {page.isFiltered ? (
            <Link to="?" className="button">
              Clear
            </Link>
          ) : null}
          {filters.batch ? (
            <span className="muted">
              Batch <code>{filters.batch}</code>
            </span>
          ) : null}
          {filters.queue ? (
            <span className="muted">
              Queue <code>{filters.queue}</code>
            </span>
          ) : null}
        </Form>
        {page.rows.length > 0 ? <BulkActionForm action={page.bulkActionsHref} filters={filters} /> : null}
        {page.rows.length === 0 ? (
          <div className="empty">
            <strong>{page.isFiltered ? "No runs match these filters" : "No runs yet"}</strong>
            {page.isFiltered
              ? "Try a longer period or fewer filters."
              : "Trigger a task with this environment's secret key and its runs appear here."}
          </div>
        ) : (
          <div className="table-wrap">
            <table className="data">
              <thead>
                <tr>
                  <th aria-label="Select" />
                  <th>ID</th>
                  <th>Task</th>
                  <th>Status</th>
                  <th>Created</th>
                  <th>Started</th>
                  <th className="num">Duration</th>
                  <th>Queue</th>
                  <th>Tags</th>
                </tr>
              </thead>
              <tbody>
                {page.rows.map((run) => (
                  <tr key={run.friendlyId}>
                    <td>
                      <input type="checkbox" name="runIds" value={run.friendlyId} form="bulk-form" aria-label={`Select ${run.friendlyId}`} />
                    </td>
                    <td className="nowrap">
                      <Link to={run.href} className="mono">
                        {run.friendlyId}
                      </Link>
                    </td>
                    <td className="mono">{run.taskIdentifier}</td>
                    <td className="nowrap">
                      <StatusBadge status={run.status} title={run.internalStatus} /> {run.isBuffered ? <BufferedBadge /> : null}
                      {run.isTest ? <span className="badge plain badge-test">Test</span> : null}
                    </td>
                    <td className="nowrap">
                      <Time value={run.createdAt} />
                    </td>
                    <td className="nowrap">
                      <Time value={run.startedAt} />
                    </td>
                    <td className="num nowrap">{run.duration ?? <span className="faint">—</span>}</td>
                    <td className="mono muted">{run.queue}</td>
                    <td>
                      {run.tags.length === 0 ? (
                        <span className="faint">—</span>
                      ) : (
                        run.tags.map((tag) => (
                          <Link key={tag} to={`?tag=${encodeURIComponent(tag)}`} className="tag">
                            {tag}
                          </Link>
                        ))
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <Pagination previousHref={page.previousHref} nextHref={page.nextHref} summary={`${page.rows.length} runs on this page`} />
      </section>
    </>
  );
}

export function ErrorBoundary() {
  return <ErrorPage />;
}
