import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json } from "@remix-run/node";
import { Form, useActionData, useLoaderData } from "@remix-run/react";
import { AccountShell } from "~/components/AppShell";
import { CsrfInput } from "~/components/CsrfInput";
import { Time } from "~/components/Time";
import { createPersonalAccessToken, revokePersonalAccessToken } from "~/models/personalAccessTokens.server";
import { presentAccessTokens } from "~/presenters/dashboard/accessTokens.server";
import { requireCsrf, requireSession } from "~/services/dashboardAuth.server";

export const meta: MetaFunction = () => [{ title: "Access tokens · Runplane" }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  const session = await requireSession(context.runtime, request);
  const tokens = await presentAccessTokens(context.runtime.prisma, session.user.id);
  return json({ user: { email: session.user.email, admin: session.user.admin }, tokens });
}

/** `intent=create` with a `name` (the token is shown once, in the answer), or `intent=revoke` with an `id`. */
export async function action({ request, context }: ActionFunctionArgs) {
  const session = await requireSession(context.runtime, request);
  const form = await request.formData();
  requireCsrf(context.runtime, session, form);
  const intent = form.get("intent");
  if (intent === "create") {
    const name = String(form.get("name") ?? "").trim();
    if (name.length < 1 || name.length > 100) return json({ ok: false as const, message: "Give the token a name of 1–100 characters." }, { status: 400 });
    const { token } = await createPersonalAccessToken(context.runtime.prisma, { userId: session.user.id, name });
    return json({ ok: true as const, message: "Token created. Copy it now: it is not shown again.", token });
  }
  if (intent === "revoke") {
    const revoked = await revokePersonalAccessToken(context.runtime.prisma, session.user.id, String(form.get("id") ?? ""));
    if (!revoked) return json({ ok: false as const, message: "No such token." }, { status: 404 });
    return json({ ok: true as const, message: "Token revoked.", token: null });
  }
  return json({ ok: false as const, message: "Unknown action" }, { status: 400 });
}

export default function AccessTokensPage() {
  const { user, tokens } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  return (
    <AccountShell user={user}>
      <div className="page-header">
        <h1>Personal access tokens</h1>
      </div>
      <p className="muted">
        For the trigger.dev CLI: set <span className="mono">TRIGGER_ACCESS_TOKEN</span> to a token, or run{" "}
        <span className="mono">npx trigger.dev@4.8.3 login -a &lt;this server&gt;</span>. A token acts as you in every organisation you belong to.
      </p>
      {result ? <div className={`callout ${result.ok ? "info" : "error"}`}>{result.message}</div> : null}
      {result && result.ok && result.token ? (
        <pre className="mono" data-testid="new-token">
          {result.token}
        </pre>
      ) : null}
      <section className="card">
        <div className="card-header">
          <h2>New token</h2>
        </div>
        <Form method="post" className="inline">
          <CsrfInput />
          <input type="hidden" name="intent" value="create" />
          <input name="name" placeholder="Name, e.g. laptop" required maxLength={100} aria-label="Token name" />
          <button type="submit">Create token</button>
        </Form>
      </section>
      <section className="card">
        <div className="card-header">
          <h2>Your tokens</h2>
        </div>
        {tokens.length === 0 ? (
          <div className="note">No tokens yet.</div>
        ) : (
          <table className="data">
            <thead>
              <tr>
                <th>Name</th>
                <th>Token</th>
                <th>Created</th>
                <th>Last used</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {tokens.map((token) => (
                <tr key={token.id}>
                  <td>{token.name}</td>
                  <td className="mono muted">{token.obfuscated}</td>
                  <td>
                    <Time value={token.createdAt} />
                  </td>
                  <td>
                    <Time value={token.lastAccessedAt} empty="never" />
                  </td>
                  <td>
                    <Form method="post" className="inline">
                      <CsrfInput />
                      <input type="hidden" name="intent" value="revoke" />
                      <input type="hidden" name="id" value={token.id} />
                      <button type="submit" className="link-button">
                        Revoke
                      </button>
                    </Form>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </AccountShell>
  );
}
