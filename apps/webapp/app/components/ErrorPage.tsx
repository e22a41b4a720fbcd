import { isRouteErrorResponse, Link, useRouteError } from "@remix-run/react";

/** What a thrown 403/404 (or an unexpected error) looks like, inside or outside the app shell. */
export function ErrorPage() {
  const error = useRouteError();
  let status = 500;
  let title = "Something went wrong";
  let detail = "The error has been logged on the server.";
  if (isRouteErrorResponse(error)) {
    status = error.status;
    if (status === 404) {
      title = "Not found";
      detail = "This page does not exist, or you do not have access to it.";
    } else if (status === 403) {
      title = "Forbidden";
      detail = typeof error.data === "string" && error.data ? error.data : "You are not allowed to do that.";
    } else {
      title = error.statusText || title;
      detail = typeof error.data === "string" ? error.data : detail;
    }
  }
  return (
    <div className="error-page">
      <div className="code">{status}</div>
      <h1>{title}</h1>
      <p className="muted">{detail}</p>
      <p>
        <Link to="/">Back to the dashboard</Link>
      </p>
    </div>
  );
}
