import type { LoaderFunctionArgs } from "@remix-run/node";
import { redirect } from "@remix-run/node";
import { envPath } from "~/presenters/dashboard/paths";
import { requireEnvironment } from "~/services/dashboardAuth.server";

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const scope = await requireEnvironment(context.runtime, request, params);
  return redirect(`${envPath(scope)}/runs`);
}
