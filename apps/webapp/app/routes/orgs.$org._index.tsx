import type { LoaderFunctionArgs } from "@remix-run/node";
import { redirect } from "@remix-run/node";
import { firstEnvironmentHref, loadNavigation } from "~/presenters/dashboard/navigation.server";
import { notFound, requireSession } from "~/services/dashboardAuth.server";

/** `/orgs/:org`: the organisation's first environment (404 unless a member). */
export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const session = await requireSession(context.runtime, request);
  const href = firstEnvironmentHref(await loadNavigation(context.runtime, session.user.id), params.org);
  if (!href) throw notFound();
  return redirect(href);
}
