/**
 * How the drainer classifies a handler failure. Retryable: the run store or its network is briefly
 * unavailable (connection refused/reset, timeouts, pool exhaustion, "Postgres unreachable" kinds);
 * the entry is requeued with an exponential backoff. Anything else is terminal.
 * A handler can also decide explicitly by throwing RetryableDrainError or TerminalDrainError.
 */
export class RetryableDrainError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RetryableDrainError";
  }
}

export class TerminalDrainError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "TerminalDrainError";
  }
}

const RETRYABLE_CODES = new Set([
  // Node / network
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "EAI_AGAIN",
  // Prisma: can't reach server, timed out, server closed, pool timeout, write conflict / deadlock
  "P1001",
  "P1002",
  "P1008",
  "P1017",
  "P2024",
  "P2034",
  // Postgres SQLSTATE: connection exceptions, serialization failure, deadlock, shutting down, too many connections
  "08000",
  "08001",
  "08003",
  "08004",
  "08006",
  "40001",
  "40P01",
  "57P01",
  "57P02",
  "57P03",
  "53300",
]);

const RETRYABLE_MESSAGE =
  /ECONNREFUSED|ECONNRESET|ENOTFOUND|ETIMEDOUT|EHOSTUNREACH|can't reach database|database (server )?(is )?(not reachable|unreachable)|postgres(ql)? (is )?unreachable|connection (terminated|lost|refused|reset)|server (has )?closed the connection|timed out|timeout exceeded|too many (clients|connections)|the database system is (starting up|shutting down|in recovery mode|not yet accepting connections)|not (yet|currently) accepting connections/i;

function codeOf(error: object): string | undefined {
  const record = error as { code?: unknown; errorCode?: unknown };
  if (typeof record.code === "string") return record.code;
  if (typeof record.errorCode === "string") return record.errorCode;
  return undefined;
}

export function isRetryableDrainError(error: unknown, depth = 0): boolean {
  if (!(error instanceof Error)) return false;
  if (error instanceof TerminalDrainError) return false;
  if (error instanceof RetryableDrainError) return true;
  if (error.name === "TimeoutError") return true;
  const code = codeOf(error);
  if (code && RETRYABLE_CODES.has(code)) return true;
  if (RETRYABLE_MESSAGE.test(error.message)) return true;
  return depth < 3 && error.cause !== undefined && isRetryableDrainError(error.cause, depth + 1);
}

/**
 * Delay before retry number `attempt + 1` of an entry: floor·2^attempt capped at maxMs, with equal
 * jitter (uniform in [d/2, d]) so entries failed together by one outage do not return together.
 */
export function drainBackoffMs(attempt: number, options: { floorMs: number; maxMs: number; random?: () => number }): number {
  const base = Math.min(options.maxMs, options.floorMs * 2 ** Math.max(0, attempt));
  const half = Math.floor(base / 2);
  return half + Math.round((options.random ?? Math.random)() * (base - half));
}
