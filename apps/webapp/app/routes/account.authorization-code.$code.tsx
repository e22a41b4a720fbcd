import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json, redirect } from "@remix-run/node";
import { Form, useActionData, useLoaderData } from "@remix-run/react";
import { AccountShell } from "~/components/AppShell";
import { CsrfInput } from "~/components/CsrfInput";
import { approveAuthorizationCode, findApprovableCode } from "~/services/cliLogin.server";
import { requireCsrf, requireSession } from "~/services/dashboardAuth.server";

export const meta: MetaFunction = () => [{ title: "Approve CLI login · Runplane" }];

/** `/account/authorization-code/:code`: the page `trigger.dev login` opens (after the usual sign-in). */
export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const session = await requireSession(context.runtime, request);
  const pending = await findApprovableCode(context.runtime.prisma, params.code ?? "");
  return json({ user: { email: session.user.email, admin: session.user.admin }, approvable: pending !== null });
}

/**
 * Approving creates the approval code. A CLI listening on this machine gets it by redirect to its
 * loopback callback; otherwise the page shows it for `trigger.dev login --code`.
 */
export async function action({ request, context, params }: ActionFunctionArgs) {
  const session = await requireSession(context.runtime, request);
  const form = await request.formData();
  requireCsrf(context.runtime, session, form);
  const approved = await approveAuthorizationCode(context.runtime.prisma, params.code ?? "", session.user.id);
  if (!approved) return json({ ok: false as const, approvalCode: null }, { status: 410 });
  if (approved.callbackPort) {
    return redirect(`http://127.0.0.1:${approved.callbackPort}/callback?approval_code=${encodeURIComponent(approved.approvalCode)}`);
  }
  return json({ ok: true as const, approvalCode: approved.approvalCode });
}

export default function ApproveCliLoginPage() {
  const { user, approvable } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  return (
    <AccountShell user={user}>
      <div className="page-header">
        <h1>Approve CLI login</h1>
      </div>
      {result?.ok ? (
        <section className="card">
          <p>Approved. Finish in your terminal with:</p>
          <pre className="mono" data-testid="approval-code">
            {`trigger.dev login --code ${result.approvalCode}`}
          </pre>
        </section>
      ) : result || !approvable ? (
        <div className="callout error">This login request expired or was already used. Run the login command again.</div>
      ) : (
        <section className="card">
          <p>
            A <span className="mono">trigger.dev</span> CLI asks to act as <strong>{user.email}</strong>. Approving gives it a new personal access token,
            which you can revoke under Access tokens. Approve only if you just started this login yourself.
          </p>
          <Form method="post">
            <CsrfInput />
            <button type="submit">Approve</button>
          </Form>
        </section>
      )}
    </AccountShell>
  );
}
