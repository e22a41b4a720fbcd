import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json, redirect } from "@remix-run/node";
import { Form, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { requestMagicLink, safeRedirectPath } from "~/services/dashboardAuth.server";
import { getSession } from "~/services/session.server";

export const meta: MetaFunction = () => [{ title: "Log in · Runplane" }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  const url = new URL(request.url);
  const redirectTo = safeRedirectPath(url.searchParams.get("redirectTo"));
  if (await getSession(context.runtime, request)) throw redirect(redirectTo);
  return json({ redirectTo, expired: url.searchParams.get("error") === "link" });
}

export async function action({ request, context }: ActionFunctionArgs) {
  const form = await request.formData();
  const result = await requestMagicLink(context.runtime, form.get("email"), form.get("redirectTo"));
  if (!result.ok) return json({ sent: false as const, error: result.error, email: String(form.get("email") ?? "") }, { status: 400 });
  return json({ sent: true as const, email: String(form.get("email") ?? "").trim().toLowerCase() });
}

export default function Login() {
  const { redirectTo, expired } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const busy = useNavigation().state === "submitting";
  return (
    <main className="auth-page">
      <div className="auth-card">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true" />
          Runplane
        </div>
        {result?.sent ? (
          <>
            <h1>Check the server log</h1>
            <p>
              A login link for <strong>{result.email}</strong> was printed to the Runplane server's output (this instance
              sends no email). It works once and expires in 15 minutes.
            </p>
            <p>
              With Docker Compose: <code>docker compose logs webapp | grep -A1 "Login link"</code>
            </p>
            <a className="button" href={`/login?redirectTo=${encodeURIComponent(redirectTo)}`}>
              Use another email
            </a>
          </>
        ) : (
          <>
            <h1>Log in</h1>
            <p>We will create a single-use login link for your email.</p>
            {expired ? <div className="callout error">That login link is invalid, used or expired. Ask for a new one.</div> : null}
            {result && !result.sent ? <div className="callout error">{result.error}</div> : null}
            <Form method="post">
              <input type="hidden" name="redirectTo" value={redirectTo} />
              <label htmlFor="email">Email</label>
              <input
                id="email"
                type="email"
                name="email"
                required
                autoComplete="email"
                autoFocus
                defaultValue={result && !result.sent ? result.email : undefined}
                placeholder="you@example.com"
              />
              <button type="submit" className="button primary" disabled={busy}>
                {busy ? "Sending…" : "Send login link"}
              </button>
            </Form>
          </>
        )}
      </div>
    </main>
  );
}
