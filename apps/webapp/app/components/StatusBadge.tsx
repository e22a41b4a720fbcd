const LABELS: Record<string, string> = {
  QUEUED: "Queued",
  DELAYED: "Delayed",
  PENDING_VERSION: "Pending version",
  DEQUEUED: "Dequeued",
  EXECUTING: "Executing",
  WAITING: "Waiting",
  COMPLETED: "Completed",
  CANCELED: "Canceled",
  FAILED: "Failed",
  CRASHED: "Crashed",
  SYSTEM_FAILURE: "System failure",
  EXPIRED: "Expired",
  TIMED_OUT: "Timed out",
  PENDING: "Pending",
  PROCESSING: "Processing",
  PARTIAL_FAILED: "Partially failed",
  ABORTED: "Aborted",
};

export function statusLabel(status: string): string {
  return LABELS[status] ?? status;
}

/** A run, batch or token status. `title` shows the internal status when it differs. */
export function StatusBadge({ status, title, className }: { status: string; title?: string; className?: string }) {
  return (
    <span className={`badge status-${status}${className ? ` ${className}` : ""}`} title={title}>
      {statusLabel(status)}
    </span>
  );
}

export function BufferedBadge() {
  return (
    <span className="badge badge-buffered" title="Accepted into the trigger buffer; not written to the database yet">
      Buffered
    </span>
  );
}

/** Wait token statuses share the run badge colours. */
export const TOKEN_STATUS_CLASS: Record<string, string> = { WAITING: "WAITING", COMPLETED: "COMPLETED", TIMED_OUT: "TIMED_OUT" };
export const TOKEN_STATUS_TEXT: Record<string, string> = { WAITING: "Waiting", COMPLETED: "Completed", TIMED_OUT: "Timed out" };

export function TokenStatusBadge({ status }: { status: string }) {
  return <span className={`badge status-${TOKEN_STATUS_CLASS[status] ?? "QUEUED"}`}>{TOKEN_STATUS_TEXT[status] ?? status}</span>;
}
