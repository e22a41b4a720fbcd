import { randomUUID } from "node:crypto";
import type { z } from "zod";
import { ApiError, ApiSchemaError, StaleSnapshotError } from "./errors.js";
import { WORKER_SDK_VERSION } from "./version.js";

export type HttpClientOptions = {
  apiUrl: string;
  secretKey: string;
  /** Extra headers on every call (e.g. `x-trigger-worker` inside tasks). */
  headers?: Record<string, string>;
};

export type RequestOptions<S extends z.ZodTypeAny> = {
  method: "GET" | "POST" | "PUT";
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  /** A raw body (e.g. NDJSON) sent with the given content type instead of JSON. */
  rawBody?: { data: string; contentType: string };
  schema: S;
  signal?: AbortSignal;
  /** Total tries for transient failures (connection errors, 408, 429, 5xx). 409 and other 4xx are never retried. */
  attempts?: number;
  timeoutMs?: number;
  /** Sends `x-trigger-request-idempotency-key`, one per logical call, reused across its retries. */
  idempotent?: boolean;
};

const RETRY_BASE_MS = 500;
const RETRY_MAX_MS = 5_000;

function retryDelay(attempt: number): number {
  const exp = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** attempt);
  return Math.round(exp / 2 + Math.random() * (exp / 2));
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new Error("aborted"));
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    function onAbort() {
      clearTimeout(timer);
      reject(signal!.reason ?? new Error("aborted"));
    }
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export function isAbortError(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error.name === "AbortError" || error.name === "TimeoutError" || error.name === "AttemptInterruptedError")
  );
}

function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** The one HTTP client: bearer auth, JSON in and out, zod-checked responses, bounded retries. */
export class HttpClient {
  readonly apiUrl: string;
  private readonly secretKey: string;
  private readonly headers: Record<string, string>;

  constructor(options: HttpClientOptions) {
    this.apiUrl = options.apiUrl.replace(/\/+$/, "");
    this.secretKey = options.secretKey;
    this.headers = options.headers ?? {};
  }

  withHeaders(headers: Record<string, string>): HttpClient {
    return new HttpClient({ apiUrl: this.apiUrl, secretKey: this.secretKey, headers: { ...this.headers, ...headers } });
  }

  async request<S extends z.ZodTypeAny>(options: RequestOptions<S>): Promise<z.output<S>> {
    const attempts = Math.max(1, options.attempts ?? 3);
    const url = new URL(this.apiUrl + options.path);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.secretKey}`,
      accept: "application/json",
      "user-agent": `runplane-worker/${WORKER_SDK_VERSION}`,
      ...this.headers,
    };
    let body: string | undefined;
    if (options.rawBody) {
      headers["content-type"] = options.rawBody.contentType;
      body = options.rawBody.data;
    } else if (options.method !== "GET") {
      headers["content-type"] = "application/json";
      body = JSON.stringify(options.body ?? {});
    }
    if (options.idempotent) headers["x-trigger-request-idempotency-key"] = randomUUID();

    let lastError: unknown;
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) await sleep(retryDelay(attempt - 1), options.signal);
      const signals: AbortSignal[] = [];
      if (options.signal) signals.push(options.signal);
      if (options.timeoutMs) signals.push(AbortSignal.timeout(options.timeoutMs));
      let response: Response;
      try {
        response = await fetch(url, {
          method: options.method,
          headers,
          body,
          signal: signals.length ? AbortSignal.any(signals) : undefined,
        });
      } catch (error) {
        if (options.signal?.aborted) throw options.signal.reason ?? error;
        lastError = error;
        continue; // connection error or our own timeout: transient
      }
      const text = await response.text().catch(() => "");
      let json: unknown = undefined;
      if (text.length > 0) {
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
      }
      if (!response.ok) {
        const message =
          json && typeof json === "object" && typeof (json as { error?: unknown }).error === "string"
            ? (json as { error: string }).error
            : `${response.status} ${response.statusText}`.trim();
        if (
          response.status === 409 &&
          json &&
          typeof json === "object" &&
          typeof (json as { latestSnapshotId?: unknown }).latestSnapshotId === "string"
        ) {
          throw new StaleSnapshotError((json as { latestSnapshotId: string }).latestSnapshotId, json);
        }
        const error = new ApiError(response.status, message, json ?? text);
        if (!isTransientStatus(response.status)) throw error;
        lastError = error;
        continue;
      }
      const parsed = options.schema.safeParse(json ?? {});
      if (!parsed.success) {
        throw new ApiSchemaError(
          `${options.method} ${options.path}`,
          parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; "),
        );
      }
      return parsed.data;
    }
    throw lastError;
  }
}
