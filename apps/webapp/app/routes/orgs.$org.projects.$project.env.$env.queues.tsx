import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData } from "@remix-run/react";
import { RunplaneError } from "@runplane/core";
import { CsrfInput } from "~/components/CsrfInput";
import { ErrorPage } from "~/components/ErrorPage";
import { Time } from "~/components/Time";
import { useAutoRefresh } from "~/components/useAutoRefresh";
import { presentQueues } from "~/presenters/dashboard/queues.server";
import { requireCsrf, requireEnvironment } from "~/services/dashboardAuth.server";
import { queueOperations } from "~/v3/queues/queueRoutes.server";

export const meta: MetaFunction = () => [{ title: "Queues · Runplane" }];

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const scope = await requireEnvironment(context.runtime, request, params);
  return json(await presentQueues(context.runtime, scope, new URL(request.url)));
}

/** Pause / resume a queue, override its limit or remove the override (`intent`, `queue`, `limit`), with the session's CSRF token. */
export async function action({ request, context, params }: ActionFunctionArgs) {
  const scope = await requireEnvironment(context.runtime, request, params);
  const form = await request.formData();
  requireCsrf(context.runtime, scope.session, form);
  const intent = form.get("intent");
  const ref = { type: "custom" as const, value: String(form.get("queue") ?? "") };
  const ops = queueOperations(context.runtime);
  const envId = scope.environment.id;
  try {
    if (intent === "queue-pause" || intent === "queue-resume") {
      const row = await ops.setPaused(envId, ref, intent === "queue-pause");
      return json({ ok: true as const, message: `${row.name} ${row.paused ? "paused: it accepts triggers and starts nothing" : "resumed"}.` });
    }
    if (intent === "queue-override") {
      const raw = String(form.get("limit") ?? "").trim();
      const limit = raw === "" ? NaN : Number(raw);
      const row = await ops.overrideLimit(envId, ref, { perKey: limit });
      return json({ ok: true as const, message: `${row.name} limit overridden to ${row.concurrencyLimit}.` });
    }
    if (intent === "queue-reset") {
      const row = await ops.resetLimit(envId, ref);
      return json({ ok: true as const, message: `${row.name} is back on its declared limit (${row.concurrencyLimit ?? "environment limit only"}).` });
    }
  } catch (error) {
    if (error instanceof RunplaneError && error.status < 500) return json({ ok: false as const, message: error.message }, { status: error.status });
    context.runtime.logger.error("dashboard queue action failed", { intent: String(intent), error });
    return json({ ok: false as const, message: "The action failed; the error has been logged on the server." }, { status: 500 });
  }
  return json({ ok: false as const, message: "Unknown action" }, { status: 400 });
}

export default function QueuesPage() {
  const page = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
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
      {result ? <div className={`callout ${result.ok ? "info" : "error"}`}>{result.message}</div> : null}
      <div className="tiles">
        <div className="tile">
          <div className="label">Queued</div>
          <div className="value">{env.queued - env.continuing}</div>
        </div>
        <div className="tile">
          <div className="label">Executing</div>
          <div className="value">{env.running}</div>
        </div>
        <div className="tile">
          <div className="label">Waiting</div>
          <div className="value">{env.blocked + env.continuing}</div>
          <div className="faint" title="Blocked on waitpoints (no slot held) · waitpoints done, queued ahead of new runs for a slot">
            {env.blocked} blocked · {env.continuing} to continue
          </div>
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
                  <th className="num">Executing</th>
                  <th className="num">Waiting</th>
                  <th className="num">Limit</th>
                  <th>State</th>
                  <th>Actions</th>
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
                    <td className="num">{q.queued - q.continuing}</td>
                    <td className="num">{q.running}</td>
                    <td className="num" title={`${q.blocked} blocked on waitpoints · ${q.continuing} to continue (queued ahead of new runs)`}>
                      {q.blocked + q.continuing}
                      {q.continuing > 0 ? <span className="faint"> ({q.continuing} to continue)</span> : null}
                    </td>
                    <td className="num">
                      {q.limit ?? <span className="faint" title="Only the environment limit applies">—</span>}
                      {q.overriddenFrom !== undefined ? (
                        <span className="faint" title="Overridden; the worker declared this limit">
                          {" "}
                          (overridden, declared {q.overriddenFrom ?? "none"})
                        </span>
                      ) : null}
                    </td>
                    <td>
                      {q.paused ? <span className="badge badge-paused">Paused</span> : <span className="badge status-COMPLETED">Active</span>}
                      {q.drift ? (
                        <span className="faint" title={q.drift}>
                          {" "}
                          ⚠ out of sync
                        </span>
                      ) : null}
                    </td>
                    <td>
                      {q.type !== "UNREGISTERED" ? (
                        <div className="actions">
                          <Form method="post" className="inline">
                            <CsrfInput />
                            <input type="hidden" name="queue" value={q.name} />
                            <input type="hidden" name="intent" value={q.paused ? "queue-resume" : "queue-pause"} />
                            <button type="submit" className="button">
                              {q.paused ? "Resume" : "Pause"}
                            </button>
                          </Form>
                          <Form method="post" className="inline">
                            <CsrfInput />
                            <input type="hidden" name="queue" value={q.name} />
                            <input type="hidden" name="intent" value="queue-override" />
                            <input type="number" name="limit" min={0} max={100000} required aria-label={`New limit for ${q.name}`} style={{ width: 70 }} />
                            <button type="submit" className="button">
                              Override
                            </button>
                          </Form>
                          {q.overriddenFrom !== undefined ? (
                            <Form method="post" className="inline">
                              <CsrfInput />
                              <input type="hidden" name="queue" value={q.name} />
                              <input type="hidden" name="intent" value="queue-reset" />
                              <button type="submit" className="button">
                                Remove override
                              </button>
                            </Form>
                          ) : null}
                        </div>
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
