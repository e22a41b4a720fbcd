import type { LoaderFunctionArgs } from "@remix-run/node";
import { json } from "@remix-run/node";
import { Form, Link, useLoaderData } from "@remix-run/react";
import { ErrorPage } from "~/components/ErrorPage";
import { Time } from "~/components/Time";
import { presentAdminOverview } from "~/presenters/dashboard/admin.server";
import { requireAdmin } from "~/services/dashboardAuth.server";

export async function loader({ request, context }: LoaderFunctionArgs) {
  await requireAdmin(context.runtime, request);
  return json(await presentAdminOverview(context.runtime, new URL(request.url)));
}

export default function AdminOverviewPage() {
  const page = useLoaderData<typeof loader>();
  return (
    <>
      <div className="page-header">
        <h1>Users and organisations</h1>
        <Form method="get" className="actions">
          <input type="search" name="q" placeholder="Search email, name or slug" defaultValue={page.query} aria-label="Search" />
          <button type="submit" className="button">
            Search
          </button>
        </Form>
      </div>
      {page.limited ? <div className="callout warn">Showing the first 100 matches; search to narrow down.</div> : null}
      <section className="card">
        <div className="card-header">
          <h2>Organisations</h2>
          <span className="faint">{page.organizations.length}</span>
        </div>
        <div className="table-wrap">
          <table className="data">
            <thead>
              <tr>
                <th>Slug</th>
                <th>Title</th>
                <th className="num">Members</th>
                <th>Projects and environments</th>
                <th>Created</th>
              </tr>
            </thead>
            <tbody>
              {page.organizations.map((org) => (
                <tr key={org.slug}>
                  <td>
                    <Link to={org.href} className="mono">
                      {org.slug}
                    </Link>
                  </td>
                  <td>{org.title}</td>
                  <td className="num">{org.members}</td>
                  <td>
                    {org.projects.map((p) => (
                      <div key={p.slug}>
                        {p.name} <code className="faint">{p.externalRef}</code>{" "}
                        {p.environments.map((e) => (
                          <a key={e.slug} href={e.href} className="tag" title="Opens only if you are a member">
                            {e.slug}
                          </a>
                        ))}
                      </div>
                    ))}
                  </td>
                  <td className="nowrap">
                    <Time value={org.createdAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
      <section className="card">
        <div className="card-header">
          <h2>Users</h2>
          <span className="faint">{page.users.length}</span>
        </div>
        <div className="table-wrap">
          <table className="data">
            <thead>
              <tr>
                <th>Email</th>
                <th>Name</th>
                <th>Role</th>
                <th>Organisations</th>
                <th className="num">Active sessions</th>
                <th>Created</th>
              </tr>
            </thead>
            <tbody>
              {page.users.map((u) => (
                <tr key={u.email}>
                  <td>{u.email}</td>
                  <td>{u.name ?? <span className="faint">—</span>}</td>
                  <td>{u.admin ? <span className="badge plain status-WAITING">Admin</span> : <span className="muted">User</span>}</td>
                  <td>
                    {u.organizations.length === 0 ? (
                      <span className="faint">none</span>
                    ) : (
                      u.organizations.map((slug) => (
                        <span key={slug} className="tag">
                          {slug}
                        </span>
                      ))
                    )}
                  </td>
                  <td className="num">{u.activeSessions}</td>
                  <td className="nowrap">
                    <Time value={u.createdAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </>
  );
}

export function ErrorBoundary() {
  return <ErrorPage />;
}
