import type { LoaderFunctionArgs } from "@remix-run/node";
import { json } from "@remix-run/node";
import { Form, Link, useLoaderData } from "@remix-run/react";
import { ErrorPage } from "~/components/ErrorPage";
import { PacketBlock } from "~/components/PacketBlock";
import { Time } from "~/components/Time";
import { presentRunDebug } from "~/presenters/dashboard/admin.server";
import { requireAdmin } from "~/services/dashboardAuth.server";

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  await requireAdmin(context.runtime, request);
  const page = await presentRunDebug(context.runtime, params.run ?? "");
  return json(page, { status: page.found ? 200 : 404 });
}

export default function AdminRunDebugPage() {
  const page = useLoaderData<typeof loader>();
  return (
    <>
      <div className="breadcrumbs">
        <Link to="/admin/runs">Debug run</Link> / <span className="mono">{page.query}</span>
      </div>
      <div className="page-header">
        <h1 className="mono">{page.run?.friendlyId ?? page.query}</h1>
        {page.run ? <span className="badge plain status-QUEUED mono">{page.run.status}</span> : null}
        <Form method="get" action="/admin/runs" className="actions">
          <input type="search" name="id" placeholder="Another run id" aria-label="Run id" />
          <button type="submit" className="button">
            Debug
          </button>
        </Form>
      </div>
      {!page.found ? <div className="callout error">No run with this id in any database or in the trigger buffer.</div> : null}
      {page.found && !page.run ? (
        <div className="callout warn">Buffered: this run is in the trigger buffer and has no row yet.</div>
      ) : null}
      {page.run ? (
        <div className="grid-2">
          <section className="card">
            <div className="card-header">
              <h2>Where it lives</h2>
            </div>
            <dl className="props">
              <dt>Database</dt>
              <dd>
                {page.run.database} <span className="faint">(id shape {page.run.residency})</span>
              </dd>
              <dt>Environment</dt>
              <dd className="mono">{page.run.environment}</dd>
              <dt>Dashboard</dt>
              <dd>
                {page.run.dashboardHref ? <a href={page.run.dashboardHref}>Run page</a> : <span className="faint">—</span>}{" "}
                <span className="faint">(members only)</span>
              </dd>
            </dl>
          </section>
          {page.queue ? (
            <section className="card">
              <div className="card-header">
                <h2>Run queue</h2>
                <span className="badge plain status-QUEUED">{page.queue.state}</span>
              </div>
              <dl className="props">
                <dt>Queue</dt>
                <dd className="mono">{page.queue.queueName}</dd>
                <dt>Concurrency key</dt>
                <dd className="mono">{page.queue.concurrencyKey || <span className="faint">none</span>}</dd>
                {page.queue.counts.map((c) => (
                  <CountRow key={c.label} label={c.label} value={c.value} />
                ))}
              </dl>
            </section>
          ) : null}
        </div>
      ) : null}
      {page.queue ? (
        <section className="card" style={{ marginTop: 16 }}>
          <div className="card-header">
            <h2>Redis keys</h2>
            <span className="faint">full names, for redis-cli</span>
          </div>
          <div className="table-wrap">
            <table className="data">
              <thead>
                <tr>
                  <th>What</th>
                  <th>Key</th>
                  <th>Now</th>
                </tr>
              </thead>
              <tbody>
                {page.queue.keys.map((k) => (
                  <tr key={k.key}>
                    <td className="nowrap">{k.label}</td>
                    <td className="mono copyable">{k.key}</td>
                    <td className="mono muted">{k.value}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      ) : null}
      {page.run ? (
        <div className="grid-2" style={{ marginTop: 16 }}>
          <div className="stack">
            <PacketBlock title="Queue message" packet={page.queue?.message ?? null} empty="No message in the run queue." />
            <PacketBlock title="Latest snapshot" packet={page.latestSnapshot} empty="No valid snapshot." />
            <section className="card">
              <div className="card-header">
                <h2>Recent snapshots</h2>
                <span className="faint">newest first</span>
              </div>
              <table className="data">
                <tbody>
                  {page.snapshots.map((s) => (
                    <tr key={s.id}>
                      <td className="nowrap">
                        <Time value={s.at} />
                      </td>
                      <td className="mono">{s.executionStatus}</td>
                      <td className="mono muted">{s.runStatus}</td>
                      <td>{s.description}</td>
                      <td className="num">{s.attemptNumber ?? ""}</td>
                      <td>{s.isValid ? "" : "invalid"}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
          </div>
          <div className="stack">
            <PacketBlock title="Run row" packet={page.run?.row ?? null} empty="" tall />
          </div>
        </div>
      ) : null}
      <section className="card" style={{ marginTop: 16 }}>
        <div className="card-header">
          <h2>Trigger buffer</h2>
        </div>
        <div className="note">{page.buffer.note}</div>
        {page.buffer.entry ? <pre className="packet tall">{page.buffer.entry.text}</pre> : null}
      </section>
      {page.buffer.synthetic ? (
        <PacketBlock title="Run as the API shows it while buffered" packet={page.buffer.synthetic} empty="" tall />
      ) : null}
    </>
  );
}

function CountRow({ label, value }: { label: string; value: string }) {
  return (
    <>
      <dt>{label}</dt>
      <dd className="mono">{value}</dd>
    </>
  );
}

export function ErrorBoundary() {
  return <ErrorPage />;
}
