import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { ErrorPage } from "~/components/ErrorPage";
import { StatusBadge } from "~/components/StatusBadge";
import { Time } from "~/components/Time";
import { presentBatch } from "~/presenters/dashboard/batches.server";
import { envPath } from "~/presenters/dashboard/paths";
import { notFound, requireEnvironment } from "~/services/dashboardAuth.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.batch.friendlyId ?? "Batch"} · Runplane` }];

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const scope = await requireEnvironment(context.runtime, request, params);
  const batch = await presentBatch(context.runtime, scope, params.batch ?? "");
  if (!batch) throw notFound();
  return json({ batch, batchesHref: `${envPath(scope)}/batches` });
}

export default function BatchPage() {
  const { batch, batchesHref } = useLoaderData<typeof loader>();
  return (
    <>
      <div className="breadcrumbs">
        <Link to={batchesHref}>Batches</Link> / <span className="mono">{batch.friendlyId}</span>
      </div>
      <div className="page-header">
        <h1 className="mono">{batch.friendlyId}</h1>
        <StatusBadge status={batch.status} />
        <div className="actions">
          <Link className="button" to={batch.runsHref}>
            View runs
          </Link>
        </div>
      </div>
      <div className="grid-2">
        <section className="card">
          <div className="card-header">
            <h2>Details</h2>
          </div>
          <dl className="props">
            <dt>Runs</dt>
            <dd>
              {batch.runCount} created{batch.expectedCount ? ` of ${batch.expectedCount} expected` : ""}
            </dd>
            <dt>Completed</dt>
            <dd>
              {batch.completedCount}
              {batch.successfulRunCount !== null ? ` (${batch.successfulRunCount} succeeded, ${batch.failedRunCount ?? 0} failed)` : ""}
            </dd>
            <dt>Idempotency key</dt>
            <dd className="mono">{batch.idempotencyKey ?? <span className="faint">—</span>}</dd>
            <dt>Parent run</dt>
            <dd>
              {batch.parentRun ? (
                <Link to={batch.parentRun.href} className="mono">
                  {batch.parentRun.friendlyId}
                </Link>
              ) : (
                <span className="faint">—</span>
              )}
            </dd>
            <dt>Created</dt>
            <dd>
              <Time value={batch.createdAt} />
            </dd>
            <dt>Sealed</dt>
            <dd>{batch.sealed ? <Time value={batch.sealedAt} empty="yes" /> : <span className="faint">not yet</span>}</dd>
            <dt>Finished</dt>
            <dd>
              <Time value={batch.completedAt} />
            </dd>
            <dt>Duration</dt>
            <dd>{batch.duration ?? <span className="faint">—</span>}</dd>
          </dl>
        </section>
        <section className="card">
          <div className="card-header">
            <h2>Runs</h2>
            <span className="faint">{batch.runs.length}{batch.moreRuns ? "+" : ""}</span>
          </div>
          {batch.runs.length === 0 ? (
            <div className="note">No runs created yet.</div>
          ) : (
            <table className="data">
              <tbody>
                {batch.runs.map((r) => (
                  <tr key={r.friendlyId}>
                    <td>
                      <Link to={r.href} className="mono">
                        {r.friendlyId}
                      </Link>
                    </td>
                    <td className="mono muted">{r.taskIdentifier}</td>
                    <td>
                      <StatusBadge status={r.status} />
                    </td>
                  </tr>
                ))}
                {batch.moreRuns ? (
                  <tr>
                    <td colSpan={3} className="muted">
                      More in the <Link to={batch.runsHref}>runs list</Link>.
                    </td>
                  </tr>
                ) : null}
              </tbody>
            </table>
          )}
        </section>
      </div>
      <section className="card" style={{ marginTop: 16 }}>
        <div className="card-header">
          <h2>Item errors</h2>
          <span className="faint">{batch.errors.length}</span>
        </div>
        {batch.errors.length === 0 ? (
          <div className="note">Every item created its run.</div>
        ) : (
          <table className="data">
            <thead>
              <tr>
                <th className="num">Item</th>
                <th>Task</th>
                <th>Code</th>
                <th>Message</th>
              </tr>
            </thead>
            <tbody>
              {batch.errors.map((e) => (
                <tr key={e.index}>
                  <td className="num">{e.index}</td>
                  <td className="mono">{e.taskIdentifier}</td>
                  <td className="mono">{e.code ?? "—"}</td>
                  <td>{e.message}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}

export function ErrorBoundary() {
  return <ErrorPage />;
}
