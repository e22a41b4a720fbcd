import type { LoaderFunctionArgs } from "@remix-run/node";
import { json } from "@remix-run/node";
import { findRunForDashboard } from "~/presenters/dashboard/runSource.server";
import { presentRunTrace } from "~/presenters/dashboard/runTrace.server";
import { notFound, requireEnvironment } from "~/services/dashboardAuth.server";
import { parseLevels } from "~/v3/events/tracePresenter.server";

/** The run page's trace (JSON, polled while the run executes): `?level=info,warn&q=text&after=cursor` filter and page the log lines. */
export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const scope = await requireEnvironment(context.runtime, request, params);
  const found = await findRunForDashboard(scope.environment.id, params.run ?? "");
  if (!found) throw notFound();
  const url = new URL(request.url);
  return json(
    await presentRunTrace(context.runtime, scope, found, {
      levels: parseLevels(url.searchParams.get("level")),
      text: url.searchParams.get("q") ?? undefined,
      after: url.searchParams.get("after") ?? undefined,
    })
  );
}
