import { useRouteLoaderData } from "@remix-run/react";
import type { RootData } from "~/root";

/** The session's CSRF token as a hidden field; every state-changing form includes it. */
export function CsrfInput() {
  const data = useRouteLoaderData<RootData>("root");
  return <input type="hidden" name="csrf" value={data?.csrf ?? ""} />;
}
