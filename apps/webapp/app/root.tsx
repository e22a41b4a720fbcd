import type { HeadersFunction, LinksFunction, LoaderFunctionArgs } from "@remix-run/node";
import { json } from "@remix-run/node";
import { Links, Meta, Outlet, Scripts, ScrollRestoration } from "@remix-run/react";
import type { ReactNode } from "react";
import { ErrorPage } from "~/components/ErrorPage";
import { useDropdowns } from "~/components/useDropdowns";
import { csrfTokenFor, getSession } from "~/services/session.server";
import styles from "~/styles/dashboard.css?url";

const FAVICON =
  "data:image/svg+xml," +
  encodeURIComponent(
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#818cf8"/><stop offset="1" stop-color="#4f46e5"/></linearGradient></defs><rect width="16" height="16" rx="4" fill="url(#g)"/></svg>'
  );

export const links: LinksFunction = () => [
  { rel: "stylesheet", href: styles },
  { rel: "icon", href: FAVICON },
];

/** Pages are never framed (clickjacking on the Cancel/Replay buttons) and never leak their URL. */
export const headers: HeadersFunction = () => ({
  "X-Frame-Options": "DENY",
  "Content-Security-Policy": "frame-ancestors 'none'",
  "Referrer-Policy": "same-origin",
  "X-Content-Type-Options": "nosniff",
});

export type RootData = { user: { email: string; admin: boolean } | null; csrf: string | null };

/** Who is logged in (for the header) and the session's CSRF token (for forms), on every page. */
export async function loader({ request, context }: LoaderFunctionArgs) {
  const session = await getSession(context.runtime, request);
  const data: RootData = session
    ? { user: { email: session.user.email, admin: session.user.admin }, csrf: csrfTokenFor(context.runtime, session) }
    : { user: null, csrf: null };
  return json(data);
}

export function Layout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <Meta />
        <Links />
      </head>
      <body>
        {children}
        <ScrollRestoration />
        <Scripts />
      </body>
    </html>
  );
}

export default function App() {
  useDropdowns();
  return <Outlet />;
}

export function ErrorBoundary() {
  return <ErrorPage />;
}
