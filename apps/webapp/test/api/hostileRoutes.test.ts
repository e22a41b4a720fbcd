import { readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../support/testServer";

/**
 * Property-based hostile input over every machine-facing route (`/api`, `/engine`, `/realtime`,
 * `/otel`), taken from the route files themselves so a new route is covered the day it lands. Each
 * route gets every method with generated path parameters, query strings and bodies: JSON of any
 * shape, NUL and invalid UTF-8, 10,000-deep nesting, numbers past double range, duplicate keys,
 * `__proto__`, wrong content types and bodies past the largest limit. Every answer must be below 500
 * (a 4xx carries a JSON body), no connection may drop, and the server stays healthy. The seed is fixed
 * and the count bounded (HOSTILE_RUNS, default 4 per route and method), so CI runs the same cases.
 */
const ROUTES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../app/routes");
const MACHINE_PREFIXES = ["api.", "engine.", "realtime.", "otel."];
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;
const RUNS = Number(process.env.HOSTILE_RUNS ?? 4);
const SEED = 20261206;
const OVER_LARGEST_LIMIT = 10 * 1024 * 1024 + 1024;

/** `api.v1.runs.$runId.tags.ts` → ["api", "v1", "runs", ":runId", "tags"]; a trailing `$` is a splat. */
export function routeSegments(file: string): string[] {
  return file
    .replace(/\.tsx?$/, "")
    .split(".")
    .filter((segment) => segment !== "_index")
    .map((segment) => (segment === "$" ? "*" : segment.startsWith("$") ? `:${segment.slice(1)}` : segment));
}

const machineRoutes = readdirSync(ROUTES_DIR)
  .filter((file) => MACHINE_PREFIXES.some((prefix) => file.startsWith(prefix)))
  .map(routeSegments)
  .sort((a, b) => a.join("/").localeCompare(b.join("/")));

const hostileString = fc.oneof(
  fc.string(),
  fc.fullUnicodeString({ maxLength: 40 }),
  fc.constantFrom("\u0000", "a\u0000b", "../../etc/passwd", "%", "%zz", "run_", "' OR 1=1 --", "\u202e", "x".repeat(5_000), "__proto__", "constructor")
);

const pathParam = hostileString.map((value) => encodeURIComponent(value) || "x");

const deepJson = (depth: number) => "[".repeat(depth) + "]".repeat(depth);

type Body = { text?: string; bytes?: Buffer; contentType?: string };
const body: fc.Arbitrary<Body> = fc.oneof(
  fc.jsonValue().map((value) => ({ text: JSON.stringify(value) })),
  fc.record({ payload: fc.jsonValue(), options: fc.dictionary(hostileString, fc.jsonValue(), { maxKeys: 5 }) }).map((value) => ({ text: JSON.stringify(value) })),
  fc.dictionary(hostileString, hostileString, { maxKeys: 6 }).map((value) => ({ text: JSON.stringify(value) })),
  fc.constantFrom<Body>(
    { text: deepJson(10_000) },
    { text: `{"a":${deepJson(10_000)}}` },
    { text: '{"n": 1e400, "m": -1e400, "i": 123456789012345678901234567890}' },
    { text: '{"payload": 1, "payload": {"x": 2}, "tags": ["a"], "tags": "b"}' },
    { text: '{"__proto__": {"admin": true}, "constructor": {"prototype": {"x": 1}}}' },
    { text: '{"payload": "a\\u0000b"}' },
    { text: "{not json" },
    { text: "" },
    { text: "null" },
    { text: '"just a string"' },
    { bytes: Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc3, 0x28, 0x22, 0x7d]) },
    { text: "a=1&b=2", contentType: "application/x-www-form-urlencoded" },
    { text: "<xml/>", contentType: "text/xml" },
    { text: '{"a":1}', contentType: "application/x-ndjson" },
    { text: "line one\n{}\n\u0000\n", contentType: "application/x-ndjson" }
  )
);

// known knobs of the routes, with hostile values, plus arbitrary pairs
const knob = fc.tuple(fc.constantFrom("waitMs", "page[size]", "page[after]", "filter[status]", "filter[createdAt][from]", "offset", "handle", "live", "cursor"), hostileString);
const query = fc.array(fc.oneof(knob, fc.tuple(hostileString, hostileString)), { maxLength: 4 }).map((pairs) => new URLSearchParams(pairs).toString());

describe("hostile input on every machine-facing route", () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ env: { REALTIME_LIVE_HOLD_MS: "200", API_RATE_LIMIT_ENABLED: "false" } });
  }, 120_000);
  afterAll(async () => void (await server?.stop()), 60_000);

  async function send(method: string, url: string, b: Body | undefined, key: string | null): Promise<string | null> {
    const headers: Record<string, string> = {};
    if (key) headers.authorization = `Bearer ${key}`;
    if (b) headers["content-type"] = b.contentType ?? "application/json";
    let response: Response;
    try {
      response = await fetch(url, { method, headers, body: method === "GET" || !b ? undefined : b.bytes ? new Uint8Array(b.bytes) : b.text, signal: AbortSignal.timeout(30_000) });
    } catch (error) {
      return `${method} ${url.slice(0, 200)}: connection failed (${String(error)} ${String((error as { cause?: unknown }).cause)}) body=${(b?.text ?? b?.bytes?.toString("hex") ?? "").slice(0, 80)} ${b?.contentType ?? ""}`;
    }
    // an event stream (the CLI's presence route) stays open by design: its status and headers are the answer
    if ((response.headers.get("content-type") ?? "").includes("text/event-stream")) {
      await response.body?.cancel().catch(() => {});
      return response.status >= 500 ? `${method} ${url.slice(0, 200)} → ${response.status} (event stream)` : null;
    }
    const text = await response.text().catch((error) => `<body unreadable: ${String(error)}>`);
    if (response.status >= 500) return `${method} ${url.slice(0, 200)} → ${response.status} ${text.slice(0, 300)}`;
    if (response.status >= 400) {
      const type = response.headers.get("content-type") ?? "";
      if (!type.includes("application/json")) return `${method} ${url.slice(0, 200)} → ${response.status} with ${type || "no content type"}: ${text.slice(0, 200)}`;
    }
    return null;
  }

  test.each(machineRoutes.map((segments) => ["/" + segments.join("/"), segments] as const))("%s", async (_name, segments) => {
    const failures: string[] = [];
    for (const method of METHODS) {
      const samples = fc.sample(fc.tuple(fc.array(pathParam, { minLength: segments.length, maxLength: segments.length }), query, body, fc.boolean()), { numRuns: RUNS, seed: SEED });
      for (const [params, qs, b, withKey] of samples) {
        const pathname = segments.map((segment, i) => (segment.startsWith(":") || segment === "*" ? params[i]! : segment)).join("/");
        const problem = await send(method, `${server.baseUrl}/${pathname}?${qs}`, b, withKey ? server.devSecretKey : null);
        if (problem) failures.push(problem);
      }
      if (method !== "GET") {
        const problem = await send(method, `${server.baseUrl}/${segments.map((s) => (s.startsWith(":") || s === "*" ? "x" : s)).join("/")}`, { text: `{"payload":"${"x".repeat(OVER_LARGEST_LIMIT)}"}` }, server.devSecretKey);
        if (problem) failures.push(problem);
      }
    }
    expect(failures).toEqual([]);
  }, 300_000);

  test("the server is still healthy", async () => {
    const response = await fetch(`${server.baseUrl}/healthcheck`);
    expect(response.status).toBe(200);
  });
});
