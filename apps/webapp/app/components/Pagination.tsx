import { Link } from "@remix-run/react";

export function Pagination({
  previousHref,
  nextHref,
  summary,
}: {
  previousHref: string | null;
  nextHref: string | null;
  summary?: string;
}) {
  return (
    <nav className="pagination" aria-label="Pagination">
      {summary ? <span className="muted">{summary}</span> : null}
      {previousHref ? (
        <Link className="button" to={previousHref} rel="prev">
          ← Previous
        </Link>
      ) : (
        <span className="button disabled" aria-disabled="true">
          ← Previous
        </span>
      )}
      {nextHref ? (
        <Link className="button" to={nextHref} rel="next">
          Next →
        </Link>
      ) : (
        <span className="button disabled" aria-disabled="true">
          Next →
        </span>
      )}
    </nav>
  );
}
