import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json, redirect } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { RunplaneError } from "@runplane/core";
import { CsrfInput } from "~/components/CsrfInput";
import { ErrorPage } from "~/components/ErrorPage";
import { PacketBlock } from "~/components/PacketBlock";
import { PropertyList } from "~/components/PropertyList";
import { RunTrace } from "~/components/RunTrace";
import { BufferedBadge, StatusBadge } from "~/components/StatusBadge";
import { Time } from "~/components/Time";
import { useAutoRefresh } from "~/components/useAutoRefresh";
import { runPath } from "~/presenters/dashboard/paths";
import { presentRunDetail } from "~/presenters/dashboard/runDetail.server";
import { findRunForDashboard } from "~/presenters/dashboard/runSource.server";
import { notFound, requireCsrf, requireEnvironment } from "~/services/dashboardAuth.server";
import { cancelRunFromDashboard, replayRunFromDashboard, resetIdempotencyKeyFromDashboard } from "~/services/dashboardRunActions.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.friendlyId ?? "Run"} · Runplane` }];

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const scope = await requireEnvironment(context.runtime, request, params);
  const page = await presentRunDetail(context.runtime, scope, params.run ?? "");
  if (!page) throw notFound();
  return json(page);
}

const CANCEL_MESSAGES = {
  cancelled: "Run canceled.",
  pending_cancel: "Cancel requested: the worker executing the run has been told to stop.",
  already_finished: "The run had already finished; nothing to cancel.",
  buffered: "Run canceled: it is written as canceled when the trigger buffer drains.",
};

/** Cancel (`intent=cancel`), Replay (`intent=replay`) and idempotency key reset (`intent=reset-idempotency`), all with the session's CSRF token. */
export async function action({ request, context, params }: ActionFunctionArgs) {
  const scope = await requireEnvironment(context.runtime, request, params);
  const form = await request.formData();
  requireCsrf(context.runtime, scope.session, form);
  const found = await findRunForDashboard(scope.environment.id, params.run ?? "");
  if (!found) throw notFound();
  const intent = form.get("intent");
  try {
    if (intent === "cancel") {
      const outcome = await cancelRunFromDashboard(found);
      return json({ ok: true as const, message: CANCEL_MESSAGES[outcome.kind] });
    }
    if (intent === "reset-idempotency") {
      const { reset } = await resetIdempotencyKeyFromDashboard(found);
      return json({
        ok: true as const,
        message: reset ? "Idempotency key reset: the next trigger with this key creates a new run." : "This run has no idempotency key.",
      });
    }
    if (intent === "replay") {
      const replay = await replayRunFromDashboard(found);
      return redirect(runPath(scope, replay.friendlyId));
    }
  } catch (error) {
    if (error instanceof RunplaneError && error.status < 500) {
      return json({ ok: false as const, message: error.message }, { status: error.status });
    }
    context.runtime.logger.error("dashboard run action failed", { intent: String(intent), run: found.run.friendlyId, error });
    return json({ ok: false as const, message: "The action failed; the error has been logged on the server." }, { status: 500 });
  }
  return json({ ok: false as const, message: "Unknown action" }, { status: 400 });
}

export default function RunPage() {
  const run = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const navigation = useNavigation();
  const busyIntent = navigation.state !== "idle" ? navigation.formData?.get("intent") : null;
  useAutoRefresh(5_000, !run.isFinal);
  return (
    <>
      {!run.isFinal ? (
        <noscript>
          <meta httpEquiv="refresh" content="10" />
        </noscript>
      ) : null}
      <div className="breadcrumbs">
        <Link to={run.runsHref}>Runs</Link> / <span className="mono">{run.friendlyId}</span>
      </div>
      <div className="page-header">
        <h1 className="mono">{run.friendlyId}</h1>
        <StatusBadge status={run.status} title={run.internalStatus} />
        {run.isBuffered ? <BufferedBadge /> : null}
        {run.isTest ? <span className="badge plain badge-test">Test</span> : null}
        <span className="page-subtitle mono">{run.taskIdentifier}</span>
        <div className="actions">
          {run.canCancel ? (
            <Form method="post" className="inline">
              <CsrfInput />
              <input type="hidden" name="intent" value="cancel" />
              <button type="submit" className="button danger" disabled={busyIntent === "cancel"}>
                {busyIntent === "cancel" ? "Canceling…" : "Cancel run"}
              </button>
            </Form>
          ) : null}
          {run.canReplay ? (
            <Form method="post" className="inline">
              <CsrfInput />
              <input type="hidden" name="intent" value="replay" />
              <button type="submit" className="button" disabled={busyIntent === "replay"}>
                {busyIntent === "replay" ? "Replaying…" : "Replay"}
              </button>
            </Form>
          ) : null}
        </div>
      </div>
      {result ? <div className={`callout ${result.ok ? "info" : "error"}`}>{result.message}</div> : null}
      {run.isBuffered ? (
        <div className="callout warn">
          This run is in the trigger buffer: it has been accepted but not written to the database yet. It will appear with
          its full history once the buffer drains.
        </div>
      ) : null}
      <RunTrace tracePath={`${run.runHref}/trace`} />
      <div className="grid-detail">
        <div className="stack">
          <section className="card">
            <div className="card-header">
              <h2>Execution timeline</h2>
              <span className="faint">{run.snapshots.length} snapshots</span>
            </div>
            {run.snapshots.length === 0 ? (
              <div className="note">{run.isBuffered ? "Snapshots start when the buffer drains and the run is written." : "No execution snapshots."}</div>
            ) : (
              <ol className="timeline">
                {run.snapshots.map((s, i) => (
                  <li
                    key={s.id}
                    className={[!s.isValid ? "invalid" : "", i === run.snapshots.length - 1 ? "final" : ""].join(" ").trim() || undefined}
                  >
                    <div className="timeline-head">
                      <span className="timeline-status">{s.executionStatus}</span>
                      <span className="timeline-meta">
                        <Time value={s.at} />
                        {s.sincePrevious ? ` · +${s.sincePrevious}` : ""}
                        {s.attemptNumber ? ` · attempt ${s.attemptNumber}` : ""}
                        {` · run ${s.runStatus}`}
                        {!s.isValid ? " · invalid" : ""}
                      </span>
                    </div>
                    <div className="timeline-desc">{s.description}</div>
                    {s.error ? <div className="timeline-desc mono">{s.error}</div> : null}
                  </li>
                ))}
              </ol>
            )}
          </section>
          <PacketBlock title="Payload" packet={run.payload} empty="No payload." />
          {run.error ? <PacketBlock title="Error" packet={run.error} empty="" tone="error" /> : null}
          <PacketBlock title="Output" packet={run.output} empty={run.isFinal ? "No output." : "No output yet."} />
        </div>
        <div className="stack">
          <section className="card">
            <div className="card-header">
              <h2>Overview</h2>
            </div>
            <PropertyList items={run.overview} />
            {run.hasIdempotencyKey ? (
              <Form method="post" className="card-body" style={{ borderTop: "1px solid var(--border)", paddingTop: 10, paddingBottom: 10 }}>
                <CsrfInput />
                <input type="hidden" name="intent" value="reset-idempotency" />
                <button type="submit" className="button" title="Let the next trigger with this key create a new run">
                  Reset idempotency key
                </button>
              </Form>
            ) : null}
          </section>
          <section className="card">
            <div className="card-header">
              <h2>Timing</h2>
            </div>
            <PropertyList items={run.timing} />
          </section>
          <section className="card">
            <div className="card-header">
              <h2>Execution</h2>
            </div>
            <PropertyList items={run.execution} />
          </section>
          <section className="card">
            <div className="card-header">
              <h2>Tags and relations</h2>
            </div>
            <dl className="props">
              <dt>Tags</dt>
              <dd>
                {run.tags.length === 0 ? (
                  <span className="faint">—</span>
                ) : (
                  run.tags.map((t) => (
                    <Link key={t.tag} to={t.href} className="tag">
                      {t.tag}
                    </Link>
                  ))
                )}
              </dd>
            </dl>
            <PropertyList items={run.relations} />
          </section>
          {run.waitpoints.length > 0 ? (
            <section className="card">
              <div className="card-header">
                <h2>Waiting on</h2>
              </div>
              <table className="data">
                <tbody>
                  {run.waitpoints.map((w) => (
                    <tr key={w.friendlyId}>
                      <td className="mono">{w.friendlyId}</td>
                      <td>{w.type}</td>
                      <td>{w.status}</td>
                      <td>
                        <Time value={w.completedAfter} empty="" />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
          ) : null}
          <PacketBlock title="Metadata" packet={run.metadata} empty="No metadata." />
        </div>
      </div>
    </>
  );
}

export function ErrorBoundary() {
  return <ErrorPage />;
}
