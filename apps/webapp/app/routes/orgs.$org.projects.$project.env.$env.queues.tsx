import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { ErrorPage } from "~/components/ErrorPage";
import { Time } from "~/components/Time";
import { useAutoRefresh } from "~/components/useAutoRefresh";
import { presentQueues } from "~/presenters/dashboard/queues.server";
import { requireEnvironment } from "~/services/dashboardAuth.server";

export const meta: MetaFunction = () => [{ title: "Queues · Runplane" }];

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const scope = await requireEnvironment(context.runtime, request, params);
  return json(await presentQueues(context.runtime, scope, new URL(request.url)));
}

export default function QueuesPage() {
  const page = useLoaderData<typeof loader>();
  useAutoRefresh(5_000);
  const env = page.environment;
  return (
    <>
      <noscript>
        <meta httpEquiv="refresh" content="10" />
      </noscript>
      <div className="page-header">
        <h1>Queues</h1>
        {env.paused ? <span className="badge badge-paused">Environment paused</span> : null}
        <span className="live" title="Refreshes every 5 seconds">
          Live · <Time value={page.refreshedAt} />
        </span>
      </div>
      <div className="tiles">
        <div className="tile">
          <div className="label">Queued</div>
          <div className="value">{env.queued}</div>
        </div>
        <div className="tile">
          <div className="label">Running</div>
          <div className="value">{env.running}</div>
        </div>
        <div className="tile">
          <div className="label">Environment limit</div>
          <div className="value">
            {env.limit}
            {env.burstFactor !== 1 ? <span className="muted"> × {env.burstFactor}</span> : null}
          </div>
          {env.configuredLimit !== env.limit ? (
            <div className="faint" title="RuntimeEnvironment.maximumConcurrencyLimit; pushed to the run queue when a worker registers">
              configured {env.configuredLimit}
            </div>
          ) : null}
        </div>
      </div>
      <section className="card">
        {page.rows.length === 0 ? (
          <div className="empty">
            <strong>No queues yet</strong>
            Queues appear when a worker registers its tasks or runs are triggered.
          </div>
        ) : (
          <div className="table-wrap">
            <table className="data">
              <thead>
                <tr>
                  <th>Name</th>
                  <th className="num">Queued</th>
                  <th className="num">Running</th>
                  <th className="num">Limit</th>
                  <th>State</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {page.rows.map((q) => (
                  <tr key={q.name}>
                    <td>
                      <span className="mono">{q.name}</span>{" "}
                      {q.type === "UNREGISTERED" ? (
                        <span className="faint" title="Has runs but no worker registered it yet">
                          (not registered)
                        </span>
                      ) : q.type === "NAMED" ? (
                        <span className="faint">(shared)</span>
                      ) : null}
                    </td>
                    <td className="num">{q.queued}</td>
                    <td className="num">{q.running}</td>
                    <td className="num">{q.limit ?? <span className="faint" title="Only the environment limit applies">—</span>}</td>
                    <td>
                      {q.paused ? <span className="badge badge-paused">Paused</span> : <span className="badge status-COMPLETED">Active</span>}
                      {q.drift ? (
                        <span className="faint" title={q.drift}>
                          {" "}
                          ⚠ out of sync
                        </span>
                      ) : null}
                    </td>
                    <td className="num">
                      {q.queued > 0 ? <Link to={q.runsHref}>Queued runs</Link> : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {page.pageCount > 1 ? (
          <nav className="pagination">
            <span className="muted">
              Page {page.page} of {page.pageCount}
            </span>
            {page.page > 1 ? (
              <Link className="button" to={`?page=${page.page - 1}`}>
                ← Previous
              </Link>
            ) : null}
            {page.page < page.pageCount ? (
              <Link className="button" to={`?page=${page.page + 1}`}>
                Next →
              </Link>
            ) : null}
          </nav>
        ) : null}
      </section>
    </>
  );
}

export function ErrorBoundary() {
  return <ErrorPage />;
}
