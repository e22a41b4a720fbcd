import type { Timestamp } from "~/presenters/dashboard/format";

/** A server-formatted UTC timestamp; the ISO value is in the tooltip. */
export function Time({ value, empty = "—" }: { value: Timestamp; empty?: string }) {
  if (!value) return <span className="faint">{empty}</span>;
  return (
    <time dateTime={value.iso} title={value.iso}>
      {value.label}
    </time>
  );
}
