import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json } from "@remix-run/node";
import { Form, Link, useLoaderData } from "@remix-run/react";
import { ErrorPage } from "~/components/ErrorPage";
import { Pagination } from "~/components/Pagination";
import { TOKEN_STATUS_CLASS as STATUS_CLASS, TOKEN_STATUS_TEXT as STATUS_TEXT } from "~/components/StatusBadge";
import { Time } from "~/components/Time";
import { presentWaitTokens } from "~/presenters/dashboard/waitpoints.server";
import { requireEnvironment } from "~/services/dashboardAuth.server";

export const meta: MetaFunction = () => [{ title: "Wait tokens · Runplane" }];

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const scope = await requireEnvironment(context.runtime, request, params);
  return json(await presentWaitTokens(context.runtime, scope, new URL(request.url)));
}


export default function WaitTokensPage() {
  const page = useLoaderData<typeof loader>();
  return (
    <>
      <div className="page-header">
        <h1>Wait tokens</h1>
        <span className="page-subtitle">Tokens created with wait.createToken(); runs waiting on them resume when they complete.</span>
      </div>
      <section className="card">
        <Form method="get" className="filters">
          <select name="status" defaultValue={page.filters.status ?? ""} aria-label="Status">
            <option value="">All statuses</option>
            {page.statusOptions.map((s) => (
              <option key={s} value={s}>
                {STATUS_TEXT[s] ?? s}
              </option>
            ))}
          </select>
          <input type="search" name="tag" placeholder="Tag" defaultValue={page.filters.tag ?? ""} aria-label="Tag" />
          <button type="submit" className="button">
            Apply
          </button>
        </Form>
        {page.rows.length === 0 ? (
          <div className="empty">
            <strong>No wait tokens</strong>
            None match, or none were created in this environment.
          </div>
        ) : (
          <div className="table-wrap">
            <table className="data">
              <thead>
                <tr>
                  <th>Created</th>
                  <th>ID</th>
                  <th>Status</th>
                  <th>Completed</th>
                  <th>Times out</th>
                  <th>Idempotency key</th>
                  <th>Tags</th>
                </tr>
              </thead>
              <tbody>
                {page.rows.map((t) => (
                  <tr key={t.friendlyId}>
                    <td className="nowrap">
                      <Time value={t.createdAt} />
                    </td>
                    <td className="nowrap">
                      <Link to={t.href} className="mono">
                        {t.friendlyId}
                      </Link>
                    </td>
                    <td>
                      <span className={`badge status-${STATUS_CLASS[t.status] ?? "QUEUED"}`}>{STATUS_TEXT[t.status] ?? t.status}</span>
                    </td>
                    <td className="nowrap">
                      <Time value={t.completedAt} />
                    </td>
                    <td className="nowrap">
                      <Time value={t.timeoutAt} />
                    </td>
                    <td className="mono">{t.idempotencyKey ?? <span className="faint">—</span>}</td>
                    <td>
                      {t.tags.length === 0 ? (
                        <span className="faint">—</span>
                      ) : (
                        t.tags.map((tag) => (
                          <span key={tag} className="tag">
                            {tag}
                          </span>
                        ))
                      )}
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
