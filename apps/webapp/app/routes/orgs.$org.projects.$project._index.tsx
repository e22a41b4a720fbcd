import type { LoaderFunctionArgs } from "@remix-run/node";
import { redirect } from "@remix-run/node";
import { loadNavigation } from "~/presenters/dashboard/navigation.server";
import { notFound, requireSession } from "~/services/dashboardAuth.server";

/** `/orgs/:org/projects/:project`: the project's first environment (404 unless a member). */
export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const session = await requireSession(context.runtime, request);
  const navigation = await loadNavigation(context.runtime, session.user.id);
  const project = navigation.organizations.find((o) => o.slug === params.org)?.projects.find((p) => p.slug === params.project);
  const env = project?.environments[0];
  if (!env) throw notFound();
  return redirect(env.href);
}
