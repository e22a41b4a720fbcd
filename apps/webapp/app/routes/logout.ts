import type { ActionFunctionArgs } from "@remix-run/node";
import { redirect } from "@remix-run/node";
import { requireCsrf } from "~/services/dashboardAuth.server";
import { destroySession, getSession } from "~/services/session.server";

/** POST /logout (with the CSRF token): ends the session everywhere and clears the cookie. */
export async function action({ request, context }: ActionFunctionArgs) {
  const session = await getSession(context.runtime, request);
  if (session) requireCsrf(context.runtime, session, await request.formData());
  const setCookie = await destroySession(context.runtime, request);
  return redirect("/login", { headers: { "Set-Cookie": setCookie } });
}

export async function loader() {
  return redirect("/");
}
