import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json } from "@remix-run/node";
import { Outlet, useLoaderData } from "@remix-run/react";
import { AdminShell } from "~/components/AppShell";
import { ErrorPage } from "~/components/ErrorPage";
import { requireAdmin } from "~/services/dashboardAuth.server";

export const meta: MetaFunction = () => [{ title: "Admin · Runplane" }];

/** /admin: admins only (404 for everyone else). Every child loader and action checks again. */
export async function loader({ request, context }: LoaderFunctionArgs) {
  const session = await requireAdmin(context.runtime, request);
  return json({ user: { email: session.user.email, admin: session.user.admin } });
}

export default function AdminLayout() {
  const { user } = useLoaderData<typeof loader>();
  return (
    <AdminShell user={user}>
      <Outlet />
    </AdminShell>
  );
}

export function ErrorBoundary() {
  return <ErrorPage />;
}
