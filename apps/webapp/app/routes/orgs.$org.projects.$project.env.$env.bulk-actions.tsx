import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json, redirect } from "@remix-run/node";
import { Form, useActionData, useLoaderData } from "@remix-run/react";
import { RunplaneError } from "@runplane/core";
import { CsrfInput } from "~/components/CsrfInput";
import { ErrorPage } from "~/components/ErrorPage";
import { Time } from "~/components/Time";
import { useAutoRefresh } from "~/components/useAutoRefresh";
import { bulkActionBodyFromForm } from "~/presenters/dashboard/bulkActionForm.server";
import { timestamp } from "~/presenters/dashboard/format";
import { envPath } from "~/presenters/dashboard/paths";
import { requireCsrf, requireEnvironment } from "~/services/dashboardAuth.server";

export const meta: MetaFunction = () => [{ title: "Bulk actions · Runplane" }];

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const scope = await requireEnvironment(context.runtime, request, params);
  const page = await context.runtime.bulkActions.list(scope.environment.id, { size: 50 });
  return json({
    actions: page.data.map((a) => ({
      ...a,
      createdAt: timestamp(new Date(a.createdAt)),
      completedAt: a.completedAt ? timestamp(new Date(a.completedAt)) : null,
      percent: a.counts.total > 0 ? Math.min(100, Math.round(((a.counts.success + a.counts.failure) / a.counts.total) * 100)) : a.status === "PENDING" ? 0 : 100,
    })),
  });
}

/** `intent=cancel|replay` from the runs page (selected runs or all matching), `intent=abort` here. CSRF-checked. */
export async function action({ request, context, params }: ActionFunctionArgs) {
  const scope = await requireEnvironment(context.runtime, request, params);
  const form = await request.formData();
  requireCsrf(context.runtime, scope.session, form);
  try {
    if (form.get("intent") === "abort") {
      await context.runtime.bulkActions.abort(scope.environment.id, String(form.get("id") ?? ""));
      return json({ ok: true as const, message: "Bulk action aborted." });
    }
    await context.runtime.bulkActions.create(scope.environment.id, bulkActionBodyFromForm(form));
    return redirect(`${envPath(scope)}/bulk-actions`);
  } catch (error) {
    if (error instanceof RunplaneError && error.status < 500) return json({ ok: false as const, message: error.message }, { status: error.status });
    throw error;
  }
}

export default function BulkActionsPage() {
  const page = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const running = page.actions.some((a) => a.status === "PENDING");
  useAutoRefresh(1_000, running);
  return (
    <>
      <div className="page-header">
        <h1>Bulk actions</h1>
        <span className="muted">Select runs on the Runs page, or all runs matching its filters, then cancel or replay them.</span>
      </div>
      {result ? <div className={`callout ${result.ok ? "info" : "error"}`}>{result.message}</div> : null}
      <section className="card">
        {page.actions.length === 0 ? (
          <div className="empty">
            <strong>No bulk actions yet</strong>
            They appear here with their progress.
          </div>
        ) : (
          <div className="table-wrap">
            <table className="data">
              <thead>
                <tr>
                  <th>ID</th>
                  <th>Action</th>
                  <th>Status</th>
                  <th>Progress</th>
                  <th className="num">Done / failed / total</th>
                  <th>Created</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {page.actions.map((a) => (
                  <tr key={a.id} data-bulk-action={a.id}>
                    <td className="mono">
                      {a.id}
                      {a.name ? <div className="faint">{a.name}</div> : null}
                    </td>
                    <td>{a.type === "CANCEL" ? "Cancel" : "Replay"}</td>
                    <td>
                      <span className="badge plain" data-bulk-status>
                        {a.status.toLowerCase()}
                      </span>
                    </td>
                    <td>
                      <progress max={100} value={a.percent} aria-label={`${a.percent}% done`} data-bulk-progress={a.percent} />
                    </td>
                    <td className="num nowrap">
                      {a.counts.success} / {a.counts.failure} / {a.counts.total}
                    </td>
                    <td className="nowrap">
                      <Time value={a.createdAt} />
                    </td>
                    <td className="num">
                      {a.status === "PENDING" ? (
                        <Form method="post" className="inline">
                          <CsrfInput />
                          <input type="hidden" name="id" value={a.id} />
                          <button type="submit" name="intent" value="abort" className="button danger">
                            Abort
                          </button>
                        </Form>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}

export function ErrorBoundary() {
  return <ErrorPage />;
}
