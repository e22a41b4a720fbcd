import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json, redirect } from "@remix-run/node";
import { Form, Link, useLoaderData } from "@remix-run/react";
import { CsrfInput } from "~/components/CsrfInput";
import { firstEnvironmentHref, loadNavigation } from "~/presenters/dashboard/navigation.server";
import { presentHome } from "~/presenters/home.server";
import { getSession } from "~/services/session.server";

export const meta: MetaFunction = () => [{ title: "Runplane" }];

/** Logged in: straight to the first environment's runs. Otherwise (or with no organisation yet): the status page. */
export async function loader({ request, context }: LoaderFunctionArgs) {
  const session = await getSession(context.runtime, request);
  if (session) {
    const href = firstEnvironmentHref(await loadNavigation(context.runtime, session.user.id));
    if (href) throw redirect(href);
  }
  return json({ home: await presentHome(context.runtime), user: session ? { email: session.user.email, admin: session.user.admin } : null });
}

export default function Index() {
  const { home, user } = useLoaderData<typeof loader>();
  return (
    <main className="plain-page">
      <h1>Runplane</h1>
      <p>Durable background runs. This instance is up.</p>
      <dl>
        <dt>Organisation</dt>
        <dd>{home.organization ?? "not bootstrapped"}</dd>
        <dt>Projects</dt>
        <dd>
          {home.projects.length === 0
            ? "none"
            : home.projects.map((p) => (
                <div key={p.externalRef}>
                  {p.name} <code>{p.externalRef}</code>
                </div>
              ))}
        </dd>
        <dt>Run-ops split</dt>
        <dd>{home.splitEnabled ? "on" : "off"}</dd>
      </dl>
      {user ? (
        <div className="callout info">
          You are logged in as <strong>{user.email}</strong> but not a member of any organisation yet. Ask an admin to add
          you{user.admin ? <> (you are one: <Link to="/admin">open the admin pages</Link>)</> : null}.
          <Form method="post" action="/logout" className="inline">
            <CsrfInput />{" "}
            <button type="submit" className="button">
              Log out
            </button>
          </Form>
        </div>
      ) : (
        <p>
          <Link className="button primary" to="/login">
            Log in to the dashboard
          </Link>
        </p>
      )}
      <p>
        <a href="/healthcheck">Health check</a>
      </p>
    </main>
  );
}
