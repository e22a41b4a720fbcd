import { Link, useFetcher } from "@remix-run/react";
import { useEffect, useMemo, useRef, useState } from "react";
import type { RunTraceData, TraceLogRow, TraceRow } from "~/presenters/dashboard/runTrace.server";

const LEVELS = ["trace", "debug", "info", "warn", "error", "fatal"] as const;

function formatMs(ms: number): string {
  if (ms < 1) return "<1ms";
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}s`;
  return `${Math.floor(ms / 60_000)}m ${Math.round((ms % 60_000) / 1000)}s`;
}

/** Rows whose ancestors are all expanded. */
function visibleRows(rows: TraceRow[], collapsed: Set<string>): TraceRow[] {
  const out: TraceRow[] = [];
  let hideBelow: number | null = null;
  for (const row of rows) {
    if (hideBelow !== null) {
      if (row.depth > hideBelow) continue;
      hideBelow = null;
    }
    out.push(row);
    if (collapsed.has(row.id)) hideBelow = row.depth;
  }
  return out;
}

/**
 * The run page's trace: spans as a collapsible tree on a time axis (child runs link to their page,
 * error spans show their stack), and the log lines below, filtered by level and text and paged
 * (a page of 200 at a time, so a run with tens of thousands of lines renders at once). Polls while the
 * run executes.
 */
export function RunTrace({ tracePath }: { tracePath: string }) {
  const trace = useFetcher<RunTraceData>();
  const more = useFetcher<RunTraceData>();
  const [filter, setFilter] = useState<{ level: string; q: string }>({ level: "", q: "" });
  const [extraLogs, setExtraLogs] = useState<TraceLogRow[]>([]);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [collapsed, setCollapsed] = useState<Set<string>>(new Set());
  const [selected, setSelected] = useState<string | null>(null);
  const loadRef = useRef(trace.load);
  loadRef.current = trace.load;

  const query = useMemo(() => {
    const params = new URLSearchParams();
    if (filter.level) params.set("level", filter.level);
    if (filter.q) params.set("q", filter.q);
    return params.toString();
  }, [filter]);
  const url = `${tracePath}${query ? `?${query}` : ""}`;

  useEffect(() => {
    setExtraLogs([]);
    loadRef.current(url);
  }, [url]);

  const data = trace.data;
  const isFinal = data?.isFinal ?? false;
  useEffect(() => {
    if (isFinal) return;
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") loadRef.current(url);
    }, 1_500);
    return () => clearInterval(timer);
  }, [url, isFinal]);

  useEffect(() => {
    if (data && extraLogs.length === 0) setNextCursor(data.nextCursor);
  }, [data, extraLogs.length]);
  useEffect(() => {
    if (!more.data) return;
    setExtraLogs((prev) => [...prev, ...more.data!.logs]);
    setNextCursor(more.data.nextCursor);
  }, [more.data]);

  if (!data) {
    return (
      <section className="card" data-testid="run-trace">
        <div className="card-header">
          <h2>Trace</h2>
        </div>
        <div className="note">Loading trace…</div>
      </section>
    );
  }

  const rows = visibleRows(data.rows, collapsed);
  const hasChildren = new Set(data.rows.filter((r) => r.parentId).map((r) => r.parentId!));
  const selectedRow = data.rows.find((r) => r.id === selected) ?? null;
  const logs = [...data.logs, ...extraLogs];
  const toggle = (id: string) =>
    setCollapsed((prev) => {
      const next = new Set(prev);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  return (
    <section className="card" data-testid="run-trace">
      <div className="card-header">
        <h2>Trace</h2>
        <span className="faint">
          {data.rows.length} spans · {data.logCount} log lines · {formatMs(data.totalMs)}
          {isFinal ? "" : " · live"}
        </span>
      </div>
      {data.truncated ? <div className="callout warn">This trace is too large to show whole; the first part is shown.</div> : null}
      <div className="trace-tree" role="tree">
        {rows.map((row) => (
          <div
            key={`${row.runId}:${row.id}`}
            role="treeitem"
            aria-expanded={hasChildren.has(row.id) ? !collapsed.has(row.id) : undefined}
            className={["trace-row", row.isError ? "error" : "", row.isPartial ? "partial" : "", selected === row.id ? "selected" : ""].join(" ")}
            data-kind={row.kind}
            data-span-id={row.id}
          >
            <div className="trace-name" style={{ paddingLeft: row.depth * 16 }}>
              {hasChildren.has(row.id) ? (
                <button type="button" className="trace-toggle" onClick={() => toggle(row.id)} aria-label={collapsed.has(row.id) ? "Expand" : "Collapse"}>
                  {collapsed.has(row.id) ? "▸" : "▾"}
                </button>
              ) : (
                <span className="trace-toggle" />
              )}
              <button type="button" className="trace-label" onClick={() => setSelected(selected === row.id ? null : row.id)}>
                {row.name}
              </button>
              {row.runHref ? (
                <Link to={row.runHref} className="mono trace-run-link">
                  {row.runId}
                </Link>
              ) : null}
            </div>
            <div className="trace-axis" title={`${formatMs(row.offsetMs)} +${formatMs(row.durationMs)}`}>
              <span
                className="trace-bar"
                style={{
                  left: `${(row.offsetMs / data.totalMs) * 100}%`,
                  width: `${Math.max(0.4, (row.durationMs / data.totalMs) * 100)}%`,
                }}
              />
            </div>
            <div className="trace-duration mono">{row.isPartial ? "running" : formatMs(row.durationMs)}</div>
          </div>
        ))}
      </div>
      {selectedRow ? (
        <div className="trace-detail" data-testid="span-detail">
          <h3>{selectedRow.name}</h3>
          {selectedRow.errorMessage ? <div className="callout error">{selectedRow.errorMessage}</div> : null}
          {selectedRow.stack ? <pre className="trace-stack">{selectedRow.stack}</pre> : null}
          <pre className="trace-props">{JSON.stringify(selectedRow.properties, null, 2)}</pre>
        </div>
      ) : null}
      <div className="card-header trace-logs-header">
        <h2>Logs</h2>
        <form
          className="inline trace-filter"
          onSubmit={(event) => {
            event.preventDefault();
            const form = new FormData(event.currentTarget);
            setFilter({ level: String(form.get("level") ?? ""), q: String(form.get("q") ?? "") });
          }}
        >
          <select name="level" defaultValue="" aria-label="Level">
            <option value="">All levels</option>
            {LEVELS.map((l) => (
              <option key={l} value={l}>
                {l}
              </option>
            ))}
          </select>
          <input type="search" name="q" placeholder="Filter text" aria-label="Filter text" />
          <button type="submit" className="button">
            Filter
          </button>
        </form>
      </div>
      {logs.length === 0 ? (
        <div className="note">No log lines{filter.level || filter.q ? " match the filter" : ""}.</div>
      ) : (
        <table className="data trace-logs" data-testid="run-logs">
          <tbody>
            {logs.map((log) => (
              <tr key={log.cursor} className={`log-${log.level}`}>
                <td className="mono faint">{log.time.slice(11, 23)}</td>
                <td className={`log-level log-level-${log.level}`}>{log.level}</td>
                <td className="log-message">
                  {log.message}
                  {Object.keys(log.attributes).length > 0 ? <span className="mono faint"> {JSON.stringify(log.attributes)}</span> : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {nextCursor ? (
        <div className="note">
          <button
            type="button"
            className="button"
            disabled={more.state !== "idle"}
            onClick={() => more.load(`${tracePath}?${new URLSearchParams({ ...(filter.level ? { level: filter.level } : {}), ...(filter.q ? { q: filter.q } : {}), after: nextCursor }).toString()}`)}
          >
            {more.state !== "idle" ? "Loading…" : "Load more log lines"}
          </button>
        </div>
      ) : null}
    </section>
  );
}
