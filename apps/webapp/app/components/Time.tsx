import { useEffect, useState } from "react";
import type { Timestamp } from "~/presenters/dashboard/format";

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const pad = (n: number) => String(n).padStart(2, "0");

function localLabel(iso: string): string {
  const date = new Date(iso);
  const year = date.getFullYear() === new Date().getFullYear() ? "" : ` ${date.getFullYear()}`;
  return `${MONTHS[date.getMonth()]} ${date.getDate()}${year}, ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/**
 * A timestamp. The server renders it in UTC (so the HTML is the same everywhere and readable without
 * JavaScript); once hydrated it switches to the browser's time zone. The tooltip has the exact instant.
 */
export function Time({ value, empty = "—" }: { value: Timestamp; empty?: string }) {
  const [label, setLabel] = useState(value?.label ?? null);
  useEffect(() => {
    setLabel(value ? localLabel(value.iso) : null);
  }, [value?.iso]);
  if (!value) return <span className="faint">{empty}</span>;
  return (
    <time dateTime={value.iso} title={`${value.iso} (UTC)`}>
      {label ?? value.label}
    </time>
  );
}
