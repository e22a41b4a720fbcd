import type { KeysetPosition } from "@internal/run-store";

/**
 * Cursor pagination for newest-first lists: `?after=<cursor>` is the next (older) page,
 * `?before=<cursor>` the previous (newer) one. A cursor is `<createdAt ms>.<row id>` of the row at the
 * page's edge. No totals: counting every run of an environment is what makes list pages slow.
 */
export const PAGE_SIZE = 25;

export type PageLinks = { nextHref: string | null; previousHref: string | null };

export function encodeCursor(row: KeysetPosition): string {
  return `${row.createdAt.getTime()}.${row.id}`;
}

export function decodeCursor(value: string | null): KeysetPosition | undefined {
  if (!value) return undefined;
  const match = /^(\d{1,15})\.([A-Za-z0-9]{1,64})$/.exec(value);
  if (!match) return undefined;
  return { createdAt: new Date(Number(match[1])), id: match[2] };
}

export type PageRequest = { after?: KeysetPosition; before?: KeysetPosition };

export function pageRequest(url: URL): PageRequest {
  const after = decodeCursor(url.searchParams.get("after"));
  if (after) return { after };
  const before = decodeCursor(url.searchParams.get("before"));
  return before ? { before } : {};
}

function hrefWith(url: URL, key: "after" | "before", cursor: string): string {
  const params = new URLSearchParams(url.search);
  params.delete("after");
  params.delete("before");
  params.set(key, cursor);
  return `${url.pathname}?${params.toString()}`;
}

/**
 * Loads one page with `fetchPage` (asked for one row more than the page, to know whether another
 * page exists in the direction of travel) and builds the Previous/Next links.
 */
export async function loadPage<T extends KeysetPosition>(
  url: URL,
  fetchPage: (query: PageRequest & { limit: number }) => Promise<T[]>,
  pageSize = PAGE_SIZE
): Promise<{ rows: T[] } & PageLinks> {
  const request = pageRequest(url);
  const fetched = await fetchPage({ ...request, limit: pageSize + 1 });
  if (request.before && fetched.length === 0) {
    // Nothing newer any more (the cursor's rows went away): show the first page.
    const first = new URL(url);
    first.searchParams.delete("before");
    return loadPage(first, fetchPage, pageSize);
  }
  let rows: T[];
  let hasNewer: boolean;
  let hasOlder: boolean;
  if (request.before) {
    // Rows come newest first; the extra row is the newest one.
    hasNewer = fetched.length > pageSize;
    rows = hasNewer ? fetched.slice(1) : fetched;
    hasOlder = true;
  } else {
    hasOlder = fetched.length > pageSize;
    rows = fetched.slice(0, pageSize);
    hasNewer = request.after !== undefined;
  }
  const first = rows[0];
  const last = rows[rows.length - 1];
  return {
    rows,
    previousHref: hasNewer && first ? hrefWith(url, "before", encodeCursor(first)) : null,
    nextHref: hasOlder && last ? hrefWith(url, "after", encodeCursor(last)) : null,
  };
}
