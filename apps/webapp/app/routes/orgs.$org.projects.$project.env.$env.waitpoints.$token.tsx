import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData } from "@remix-run/react";
import { RunplaneError } from "@runplane/core";
import { CsrfInput } from "~/components/CsrfInput";
import { ErrorPage } from "~/components/ErrorPage";
import { PacketBlock } from "~/components/PacketBlock";
import { StatusBadge, TokenStatusBadge } from "~/components/StatusBadge";
import { Time } from "~/components/Time";
import { presentWaitToken } from "~/presenters/dashboard/waitpoints.server";
import { notFound, requireCsrf, requireEnvironment } from "~/services/dashboardAuth.server";
import { completeTokenFromDashboard, timeOutTokenFromDashboard } from "~/services/dashboardTokenActions.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.friendlyId ?? "Wait token"} · Runplane` }];

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const scope = await requireEnvironment(context.runtime, request, params);
  const token = await presentWaitToken(context.runtime, scope, params.token ?? "");
  if (!token) throw notFound();
  return json(token);
}

/** `intent=complete` (with a JSON `output`) or `intent=timeout`, with the CSRF token. */
export async function action({ request, context, params }: ActionFunctionArgs) {
  const scope = await requireEnvironment(context.runtime, request, params);
  const form = await request.formData();
  requireCsrf(context.runtime, scope.session, form);
  const token = await presentWaitToken(context.runtime, scope, params.token ?? "");
  if (!token) throw notFound();
  if (!token.canComplete) return json({ ok: false as const, message: "This token is already completed." }, { status: 409 });
  try {
    if (form.get("intent") === "complete") {
      await completeTokenFromDashboard(token, form.get("output"));
      return json({ ok: true as const, message: "Token completed; runs waiting on it resume." });
    }
    if (form.get("intent") === "timeout") {
      await timeOutTokenFromDashboard(context.runtime, token);
      return json({ ok: true as const, message: "Token timed out; runs waiting on it resume with a timeout error." });
    }
  } catch (error) {
    if (error instanceof RunplaneError && error.status < 500) return json({ ok: false as const, message: error.message }, { status: error.status });
    throw error;
  }
  return json({ ok: false as const, message: "Unknown action" }, { status: 400 });
}

export default function WaitTokenPage() {
  const token = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  return (
    <>
      <div className="breadcrumbs">
        <Link to={token.tokensHref}>Wait tokens</Link> / <span className="mono">{token.friendlyId}</span>
      </div>
      <div className="page-header">
        <h1 className="mono">{token.friendlyId}</h1>
        <TokenStatusBadge status={token.status} />
      </div>
      {result ? <div className={`callout ${result.ok ? "info" : "error"}`}>{result.message}</div> : null}
      <div className="grid-2">
        <div className="stack">
          <section className="card">
            <div className="card-header">
              <h2>Details</h2>
            </div>
            <dl className="props">
              <dt>Created</dt>
              <dd>
                <Time value={token.createdAt} />
              </dd>
              <dt>Times out</dt>
              <dd>
                <Time value={token.timeoutAt} empty="never" />
              </dd>
              <dt>Completed</dt>
              <dd>
                <Time value={token.completedAt} />
              </dd>
              <dt>Idempotency key</dt>
              <dd className="mono">{token.idempotencyKey ?? <span className="faint">—</span>}</dd>
              <dt>Tags</dt>
              <dd>
                {token.tags.length === 0 ? (
                  <span className="faint">—</span>
                ) : (
                  token.tags.map((tag) => (
                    <span key={tag} className="tag">
                      {tag}
                    </span>
                  ))
                )}
              </dd>
            </dl>
          </section>
          <section className="card">
            <div className="card-header">
              <h2>Waiting runs</h2>
            </div>
            {token.blockedRuns.length === 0 ? (
              <div className="note">No run is waiting on this token.</div>
            ) : (
              <table className="data">
                <tbody>
                  {token.blockedRuns.map((r) => (
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
                  {token.moreBlockedRuns > 0 ? (
                    <tr>
                      <td colSpan={3} className="muted">
                        and {token.moreBlockedRuns} more
                      </td>
                    </tr>
                  ) : null}
                </tbody>
              </table>
            )}
          </section>
        </div>
        <div className="stack">
          {token.canComplete ? (
            <section className="card">
              <div className="card-header">
                <h2>Complete</h2>
              </div>
              <Form method="post" className="card-body">
                <CsrfInput />
                <label htmlFor="output" className="muted" style={{ display: "block", marginBottom: 6 }}>
                  Output (JSON) returned to the waiting runs
                </label>
                <textarea
                  id="output"
                  name="output"
                  rows={6}
                  defaultValue={"{\n  \"approved\": true\n}"}
                  className="mono"
                  style={{ width: "100%", padding: 8, border: "1px solid var(--border-strong)", borderRadius: 6 }}
                />
                <div style={{ display: "flex", gap: 8, marginTop: 10 }}>
                  <button type="submit" name="intent" value="complete" className="button primary">
                    Complete token
                  </button>
                  <button type="submit" name="intent" value="timeout" className="button danger">
                    Time out now
                  </button>
                </div>
              </Form>
            </section>
          ) : (
            <PacketBlock title={token.status === "TIMED_OUT" ? "Timeout error" : "Output"} packet={token.output} empty="No output." />
          )}
        </div>
      </div>
    </>
  );
}

export function ErrorBoundary() {
  return <ErrorPage />;
}
