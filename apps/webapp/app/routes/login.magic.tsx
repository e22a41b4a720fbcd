import type { LoaderFunctionArgs } from "@remix-run/node";
import { redirect } from "@remix-run/node";
import { consumeMagicLink } from "~/services/dashboardAuth.server";

/** `/login/magic?token=…`: the link printed by /login. Opens a session and goes where the user was headed. */
export async function loader({ request, context }: LoaderFunctionArgs) {
  const token = new URL(request.url).searchParams.get("token");
  const login = await consumeMagicLink(context.runtime, token);
  if (!login) throw redirect("/login?error=link");
  return redirect(login.redirectTo, { headers: { "Set-Cookie": login.setCookie, "Cache-Control": "no-store" } });
}
