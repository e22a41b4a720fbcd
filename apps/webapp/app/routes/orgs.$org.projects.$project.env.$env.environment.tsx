import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json } from "@remix-run/node";
import { Form, useActionData, useLoaderData } from "@remix-run/react";
import { RunplaneError } from "@runplane/core";
import { CsrfInput } from "~/components/CsrfInput";
import { ErrorPage } from "~/components/ErrorPage";
import { requireCsrf, requireEnvironment } from "~/services/dashboardAuth.server";
import { queueOperations } from "~/v3/queues/queueRoutes.server";
import { MAX_ENV_LIMIT } from "~/v3/queues/queueOperations.server";

export const meta: MetaFunction = () => [{ title: "Environment · Runplane" }];

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const scope = await requireEnvironment(context.runtime, request, params);
  const runQueue = context.runtime.engine.runQueue;
  const [enforced, executing] = await Promise.all([
    runQueue.envConcurrencyLimit(scope.environment.id),
    runQueue.currentConcurrency({ environmentId: scope.environment.id }),
  ]);
  return json({
    slug: scope.environment.slug,
    type: scope.environment.type,
    configuredLimit: scope.environment.maximumConcurrencyLimit,
    enforcedLimit: enforced,
    executing,
    maxLimit: MAX_ENV_LIMIT,
  });
}

/** `intent=set-limit` with `limit`: the environment's concurrency limit, enforced at once. */
export async function action({ request, context, params }: ActionFunctionArgs) {
  const scope = await requireEnvironment(context.runtime, request, params);
  const form = await request.formData();
  requireCsrf(context.runtime, scope.session, form);
  if (form.get("intent") !== "set-limit") return json({ ok: false as const, message: "Unknown action" }, { status: 400 });
  try {
    const raw = String(form.get("limit") ?? "").trim();
    const limit = await queueOperations(context.runtime).setEnvironmentLimit(scope.environment.id, raw === "" ? NaN : Number(raw));
    return json({ ok: true as const, message: `Concurrency limit set to ${limit}.` });
  } catch (error) {
    if (error instanceof RunplaneError && error.status < 500) return json({ ok: false as const, message: error.message }, { status: error.status });
    context.runtime.logger.error("dashboard environment limit change failed", { error });
    return json({ ok: false as const, message: "The change failed; the error has been logged on the server." }, { status: 500 });
  }
}

export default function EnvironmentPage() {
  const env = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  return (
    <>
      <div className="page-header">
        <h1>Environment</h1>
        <span className="page-subtitle mono">
          {env.slug} · {env.type}
        </span>
      </div>
      {result ? <div className={`callout ${result.ok ? "info" : "error"}`}>{result.message}</div> : null}
      <div className="tiles">
        <div className="tile">
          <div className="label">Concurrency limit</div>
          <div className="value">{env.enforcedLimit}</div>
          {env.configuredLimit !== env.enforcedLimit ? <div className="faint">configured {env.configuredLimit}</div> : null}
        </div>
        <div className="tile">
          <div className="label">Executing</div>
          <div className="value">{env.executing}</div>
        </div>
      </div>
      <section className="card">
        <Form method="post" className="card-body">
          <CsrfInput />
          <input type="hidden" name="intent" value="set-limit" />
          <label>
            Runs executing at once in this environment (waiting runs do not count){" "}
            <input type="number" name="limit" min={1} max={env.maxLimit} defaultValue={env.configuredLimit} required style={{ width: 90 }} />
          </label>{" "}
          <button type="submit" className="button">
            Save limit
          </button>
        </Form>
      </section>
    </>
  );
}

export function ErrorBoundary() {
  return <ErrorPage />;
}
