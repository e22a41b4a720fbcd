/**
 * Formatting shared by the dashboard presenters. Everything is formatted on the server, in UTC, so
 * the page reads the same with or without JavaScript and hydration never disagrees with the HTML.
 */

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

export type Timestamp = { iso: string; label: string } | null;

/** "Aug 21, 14:03:07" (UTC) with the ISO string for `<time dateTime>` and tooltips. */
export function timestamp(date: Date | null | undefined, now: Date = new Date()): Timestamp {
  if (!date) return null;
  const year = date.getUTCFullYear() === now.getUTCFullYear() ? "" : ` ${date.getUTCFullYear()}`;
  const label = `${MONTHS[date.getUTCMonth()]} ${date.getUTCDate()}${year}, ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
  return { iso: date.toISOString(), label };
}

/** "850ms", "12.3s", "4m 05s", "2h 10m", "3d 4h". */
export function formatDuration(ms: number | null | undefined): string | null {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return null;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)}s`;
  const totalSeconds = Math.round(seconds);
  const minutes = Math.floor(totalSeconds / 60);
  if (minutes < 60) return `${minutes}m ${pad(totalSeconds % 60)}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h ${pad(minutes % 60)}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

/** Time between two instants (`end` defaults to now for something still going). */
export function durationBetween(start: Date | null | undefined, end: Date | null | undefined, now: Date = new Date()): string | null {
  if (!start) return null;
  return formatDuration((end ?? now).getTime() - start.getTime());
}

export const MAX_PACKET_CHARS = 64 * 1024;

export type Packet = {
  text: string;
  type: string;
  truncated: boolean;
  /** Offloaded packets: a signed link to the whole packet, and its size. */
  downloadUrl?: string;
  bytes?: number;
} | null;

/** A payload/output/metadata packet for display: JSON pretty-printed, anything else as is, capped. */
export function packet(data: string | null | undefined, type = "application/json"): Packet {
  if (data === null || data === undefined || data === "") return null;
  let text = data;
  if (type.includes("json")) {
    try {
      text = JSON.stringify(JSON.parse(data), null, 2);
    } catch {
      text = data;
    }
  }
  const truncated = text.length > MAX_PACKET_CHARS;
  return { text: truncated ? text.slice(0, MAX_PACKET_CHARS) : text, type, truncated };
}

/** Any JSON value (an error object, a queue message) pretty-printed, capped like packets. */
export function jsonBlock(value: unknown): Packet {
  if (value === null || value === undefined) return null;
  return packet(JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v)), "application/json");
}

export function environmentLabel(type: string): string {
  switch (type) {
    case "DEVELOPMENT":
      return "Development";
    case "STAGING":
      return "Staging";
    case "PREVIEW":
      return "Preview";
    default:
      return "Production";
  }
}

/**
 * A run error (the TaskRunError shapes: BUILT_IN_ERROR / CUSTOM_ERROR / STRING_ERROR /
 * INTERNAL_ERROR) as readable text: "Name: message" then the stack; unknown shapes as JSON.
 */
export function runErrorBlock(error: unknown): Packet {
  if (error === null || error === undefined) return null;
  if (typeof error !== "object") return packet(String(error), "text/plain");
  const e = error as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === "string" && v.length > 0 ? v : undefined);
  const headline =
    str(e.message) !== undefined
      ? `${str(e.name) ?? str(e.code) ?? "Error"}: ${str(e.message)}`
      : (str(e.raw) ?? (str(e.code) ? `${str(e.code)}${str(e.message) ? `: ${str(e.message)}` : ""}` : undefined));
  if (headline === undefined) return jsonBlock(error);
  const stack = str(e.stackTrace);
  const body = stack && !stack.startsWith(headline) ? `${headline}\n\n${stack}` : (stack ?? headline);
  return packet(body, str(e.type) ?? "error");
}
