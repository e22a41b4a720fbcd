import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { json } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData } from "@remix-run/react";
import { RunplaneError } from "@runplane/core";
import { CsrfInput } from "~/components/CsrfInput";
import { ErrorPage } from "~/components/ErrorPage";
import { Time } from "~/components/Time";
import { presentAdminOrganization } from "~/presenters/dashboard/admin.server";
import { addOrganizationMember, removeOrganizationMember } from "~/services/adminMembers.server";
import { notFound, requireAdmin, requireCsrf } from "~/services/dashboardAuth.server";

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  await requireAdmin(context.runtime, request);
  const org = await presentAdminOrganization(context.runtime, params.org ?? "");
  if (!org) throw notFound();
  return json(org);
}

/** Add a member by email (`intent=add`) or remove one (`intent=remove`). */
export async function action({ request, context, params }: ActionFunctionArgs) {
  const session = await requireAdmin(context.runtime, request);
  const form = await request.formData();
  requireCsrf(context.runtime, session, form);
  const slug = params.org ?? "";
  try {
    if (form.get("intent") === "add") {
      const { email } = await addOrganizationMember(context.runtime, slug, form.get("email"));
      return json({ ok: true as const, message: `${email} is now a member.` });
    }
    if (form.get("intent") === "remove") {
      await removeOrganizationMember(context.runtime, slug, String(form.get("userId") ?? ""));
      return json({ ok: true as const, message: "Member removed." });
    }
  } catch (error) {
    if (error instanceof RunplaneError && error.status < 500) return json({ ok: false as const, message: error.message }, { status: error.status });
    throw error;
  }
  return json({ ok: false as const, message: "Unknown action" }, { status: 400 });
}

export default function AdminOrganizationPage() {
  const org = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  return (
    <>
      <div className="breadcrumbs">
        <Link to="/admin">Organisations</Link> / <span className="mono">{org.slug}</span>
      </div>
      <div className="page-header">
        <h1>{org.title}</h1>
        <span className="page-subtitle">
          created <Time value={org.createdAt} />
        </span>
      </div>
      {result ? <div className={`callout ${result.ok ? "info" : "error"}`}>{result.message}</div> : null}
      <section className="card">
        <div className="card-header">
          <h2>Members</h2>
          <Form method="post" className="actions">
            <CsrfInput />
            <input type="hidden" name="intent" value="add" />
            <input type="email" name="email" placeholder="email@example.com" required aria-label="Email" />
            <button type="submit" className="button primary">
              Add member
            </button>
          </Form>
        </div>
        <table className="data">
          <thead>
            <tr>
              <th>Email</th>
              <th>Role</th>
              <th>Since</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {org.members.map((m) => (
              <tr key={m.userId}>
                <td>
                  {m.email} {m.admin ? <span className="badge plain status-WAITING">Admin</span> : null}
                </td>
                <td className="muted">{m.role}</td>
                <td>
                  <Time value={m.since} />
                </td>
                <td className="num">
                  <Form method="post" className="inline">
                    <CsrfInput />
                    <input type="hidden" name="intent" value="remove" />
                    <input type="hidden" name="userId" value={m.userId} />
                    <button type="submit" className="button danger">
                      Remove
                    </button>
                  </Form>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </>
  );
}

export function ErrorBoundary() {
  return <ErrorPage />;
}
