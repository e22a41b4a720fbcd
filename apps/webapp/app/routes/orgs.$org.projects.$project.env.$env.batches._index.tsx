import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json } from "@remix-run/node";
import { Form, Link, useLoaderData } from "@remix-run/react";
import { ErrorPage } from "~/components/ErrorPage";
import { Pagination } from "~/components/Pagination";
import { StatusBadge, statusLabel } from "~/components/StatusBadge";
import { Time } from "~/components/Time";
import { presentBatches } from "~/presenters/dashboard/batches.server";
import { requireEnvironment } from "~/services/dashboardAuth.server";

export const meta: MetaFunction = () => [{ title: "Batches · Runplane" }];

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const scope = await requireEnvironment(context.runtime, request, params);
  return json(await presentBatches(context.runtime, scope, new URL(request.url)));
}

export default function BatchesPage() {
  const page = useLoaderData<typeof loader>();
  return (
    <>
      <div className="page-header">
        <h1>Batches</h1>
      </div>
      <section className="card">
        <Form method="get" className="filters">
          <select name="status" defaultValue={page.status ?? ""} aria-label="Status">
            <option value="">All statuses</option>
            {page.statusOptions.map((s) => (
              <option key={s} value={s}>
                {statusLabel(s)}
              </option>
            ))}
          </select>
          <button type="submit" className="button">
            Apply
          </button>
        </Form>
        {page.rows.length === 0 ? (
          <div className="empty">
            <strong>No batches</strong>
            Batches appear when tasks are triggered with batchTrigger.
          </div>
        ) : (
          <div className="table-wrap">
            <table className="data">
              <thead>
                <tr>
                  <th>ID</th>
                  <th>Status</th>
                  <th className="num">Runs</th>
                  <th className="num">Completed</th>
                  <th className="num">Duration</th>
                  <th>Created</th>
                  <th>Finished</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {page.rows.map((b) => (
                  <tr key={b.friendlyId}>
                    <td className="nowrap">
                      <Link to={b.href} className="mono">
                        {b.friendlyId}
                      </Link>
                    </td>
                    <td>
                      <StatusBadge status={b.status} />
                    </td>
                    <td className="num">
                      {b.runCount}
                      {b.expectedCount > b.runCount ? <span className="faint"> / {b.expectedCount}</span> : null}
                    </td>
                    <td className="num">{b.completedCount}</td>
                    <td className="num">{b.duration ?? <span className="faint">—</span>}</td>
                    <td className="nowrap">
                      <Time value={b.createdAt} />
                    </td>
                    <td className="nowrap">
                      <Time value={b.completedAt} />
                    </td>
                    <td className="num">
                      <Link to={b.runsHref}>View runs</Link>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <Pagination previousHref={page.previousHref} nextHref={page.nextHref} />
      </section>
    </>
  );
}

export function ErrorBoundary() {
  return <ErrorPage />;
}
