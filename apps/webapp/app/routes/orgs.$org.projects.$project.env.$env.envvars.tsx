import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json } from "@remix-run/node";
import { Form, useActionData, useLoaderData } from "@remix-run/react";
import { RunplaneError } from "@runplane/core";
import { CsrfInput } from "~/components/CsrfInput";
import { ErrorPage } from "~/components/ErrorPage";
import { requireCsrf, requireEnvironment } from "~/services/dashboardAuth.server";

export const meta: MetaFunction = () => [{ title: "Environment variables · Runplane" }];

/** Secret values never leave the server; other values are sent, and shown only when revealed. */
export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const scope = await requireEnvironment(context.runtime, request, params);
  const variables = await context.runtime.envVars.list(scope.environment.id);
  return json({ environment: scope.environment.slug, variables });
}

/** `intent=create|update|delete`, with the session's CSRF token. */
export async function action({ request, context, params }: ActionFunctionArgs) {
  const scope = await requireEnvironment(context.runtime, request, params);
  const form = await request.formData();
  requireCsrf(context.runtime, scope.session, form);
  const intent = form.get("intent");
  const name = String(form.get("name") ?? "").trim();
  const value = String(form.get("value") ?? "");
  const { envVars } = context.runtime;
  try {
    if (intent === "create") {
      await envVars.create(scope.environment.id, { name, value, isSecret: form.get("isSecret") === "on" });
      return json({ ok: true as const, message: `${name} added.` });
    }
    if (intent === "update") {
      await envVars.update(scope.environment.id, name, value);
      return json({ ok: true as const, message: `${name} updated.` });
    }
    if (intent === "delete") {
      await envVars.delete(scope.environment.id, name);
      return json({ ok: true as const, message: `${name} deleted.` });
    }
  } catch (error) {
    if (error instanceof RunplaneError && error.status < 500) return json({ ok: false as const, message: error.message }, { status: error.status });
    throw error;
  }
  return json({ ok: false as const, message: "Unknown action" }, { status: 400 });
}

export default function EnvironmentVariablesPage() {
  const page = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  return (
    <>
      <div className="page-header">
        <h1>Environment variables</h1>
        <span className="muted">Set in each run's process.env by the worker, at attempt start.</span>
      </div>
      {result ? <div className={`callout ${result.ok ? "info" : "error"}`}>{result.message}</div> : null}
      <section className="card">
        {page.variables.length === 0 ? (
          <div className="empty">
            <strong>No variables yet</strong>
            Add one below, or with the SDK's envvars.create / envvars.upload.
          </div>
        ) : (
          <div className="table-wrap">
            <table className="data" data-envvars>
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Value</th>
                  <th>Edit</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {page.variables.map((variable) => (
                  <tr key={variable.name} data-envvar={variable.name}>
                    <td className="mono">{variable.name}</td>
                    <td>
                      {variable.isSecret ? (
                        <span className="faint" title="Secret values cannot be shown again">
                          secret
                        </span>
                      ) : (
                        <details>
                          <summary>Reveal</summary>
                          <span className="mono" data-envvar-value>
                            {variable.value}
                          </span>
                        </details>
                      )}
                    </td>
                    <td>
                      <Form method="post" className="inline">
                        <CsrfInput />
                        <input type="hidden" name="name" value={variable.name} />
                        <input type="password" name="value" placeholder="New value" aria-label={`New value of ${variable.name}`} required />
                        <button type="submit" name="intent" value="update" className="button">
                          Save
                        </button>
                      </Form>
                    </td>
                    <td className="num">
                      <Form method="post" className="inline">
                        <CsrfInput />
                        <input type="hidden" name="name" value={variable.name} />
                        <button type="submit" name="intent" value="delete" className="button danger">
                          Delete
                        </button>
                      </Form>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section className="card">
        <div className="card-header">
          <h2>Add a variable</h2>
        </div>
        <Form method="post" className="inline" data-envvar-create>
          <CsrfInput />
          <input name="name" placeholder="NAME" aria-label="Name" required pattern="[A-Za-z_][A-Za-z0-9_]*" />
          <input type="password" name="value" placeholder="value" aria-label="Value" />
          <label>
            <input type="checkbox" name="isSecret" /> Secret
          </label>
          <button type="submit" name="intent" value="create" className="button">
            Add
          </button>
        </Form>
      </section>
    </>
  );
}

export function ErrorBoundary() {
  return <ErrorPage />;
}
