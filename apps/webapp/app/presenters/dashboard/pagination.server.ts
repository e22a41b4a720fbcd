import type { ListPosition } from "@internal/run-store";

/**
 * Cursor pagination for newest-first lists: `?after=<cursor>` is the next (older) page,
 * `?before=<cursor>` the previous (newer) one. A cursor is `<createdAt ms>.<row id>` of the row at the
 * page's edge. No totals: counting every run of an environment is what makes list pages slow.
 */
export const PAGE_SIZE = 25;

export type PageLinks = { nextHref: string | null; previousHref: string | null };

export function encodeCursor(row: ListPosition): string {
  return `${row.createdAt.getTime()}.${row.id}`;
}

export function decodeCursor(value: string | null): ListPosition | undefined {
  if (!value) return undefined;
  const match = /^(\d{1,15})\.([A-Za-z0-9]{1,64})$/.exec(value);
  if (!match) return undefined;
  return { createdAt: new Date(Number(match[1])), id: match[2] };
}

export type PageRequest = { after?: ListPosition; before?: ListPosition };

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

/** What the run store's paged queries answer (`apiQueries.list*Page`): one page, and whether more lie in the direction of travel. */
export type FetchedPage<T> = { rows: T[]; hasMore: boolean };

/** Loads the page the URL asks for and builds the Previous/Next links. */
export async function loadPage<T extends ListPosition>(
  url: URL,
  fetchPage: (query: PageRequest & { limit: number }) => Promise<FetchedPage<T>>,
  pageSize = PAGE_SIZE
): Promise<{ rows: T[] } & PageLinks> {
  const request = pageRequest(url);
  const { rows, hasMore } = await fetchPage({ ...request, limit: pageSize });
  if (request.before && rows.length === 0) {
    // Nothing newer any more (the cursor's rows went away): show the first page.
    const first = new URL(url);
    first.searchParams.delete("before");
    return loadPage(first, fetchPage, pageSize);
  }
  const hasNewer = request.before ? hasMore : request.after !== undefined;
  const hasOlder = request.before ? true : hasMore;
  const first = rows[0];
  const last = rows[rows.length - 1];
  return {
    rows,
    previousHref: hasNewer && first ? hrefWith(url, "before", encodeCursor(first)) : null,
    nextHref: hasOlder && last ? hrefWith(url, "after", encodeCursor(last)) : null,
  };
}
