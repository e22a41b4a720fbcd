import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json } from "@remix-run/node";
import { Outlet, useLoaderData } from "@remix-run/react";
import { EnvironmentShell } from "~/components/AppShell";
import { loadNavigation } from "~/presenters/dashboard/navigation.server";
import { requireEnvironment } from "~/services/dashboardAuth.server";

export const meta: MetaFunction = () => [{ title: "Runplane" }];

/** The frame of every environment page. Each child loader checks access again on its own (loaders run in parallel). */
export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const scope = await requireEnvironment(context.runtime, request, params);
  const navigation = await loadNavigation(context.runtime, scope.session.user.id, scope);
  return json({ user: { email: scope.session.user.email, admin: scope.session.user.admin }, navigation });
}

export default function EnvironmentLayout() {
  const { user, navigation } = useLoaderData<typeof loader>();
  return (
    <EnvironmentShell user={user} navigation={navigation}>
      <Outlet />
    </EnvironmentShell>
  );
}
