import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ENV_KEYS, parseEnv } from "~/env.server";

const composePath = new URL("../../../docker/docker-compose.yml", import.meta.url);

type Service = { environment?: Record<string, string | number | boolean | null> | string[] };

function webappEnvironment(service = "webapp"): Record<string, string> {
  const compose = parse(readFileSync(composePath, "utf8"), { merge: true }) as { services: Record<string, Service> };
  const environment = compose.services[service]?.environment;
  expect(environment, "the compose file has a webapp service with an environment").toBeDefined();
  if (Array.isArray(environment)) {
    return Object.fromEntries(environment.map((line) => [line.split("=")[0], line.slice(line.indexOf("=") + 1)]));
  }
  return Object.fromEntries(Object.entries(environment!).map(([k, v]) => [k, v === null ? "" : String(v)]));
}

/** Resolves `${NAME:-default}` and `${NAME:?message}` the way compose does with nothing set. */
function interpolate(value: string, vars: Record<string, string>): string {
  return value.replace(/\$\{([A-Z0-9_]+)(?::([-?])([^}]*))?\}/g, (_, name: string, op?: string, rest?: string) => {
    if (vars[name]) return vars[name];
    if (op === "-") return rest ?? "";
    if (op === "?") throw new Error(`${name} is required: ${rest}`);
    return "";
  });
}

describe("docker/docker-compose.yml", () => {
  it.each(["webapp", "webapp-api"])("%s sets only variables the webapp's env schema knows", (service) => {
    const keys = Object.keys(webappEnvironment(service));
    expect(keys.length).toBeGreaterThan(0);
    const unknown = keys.filter((key) => !(ENV_KEYS as string[]).includes(key));
    expect(unknown).toEqual([]);
  });

  it("the scaled profile's API instance runs no background loop; the main instance runs them all", () => {
    const api = webappEnvironment("webapp-api");
    expect(api).toMatchObject({ RUN_ENGINE_WORKER_ENABLED: "false", MOLLIFIER_DRAINER_ENABLED: "false", MOLLIFIER_STALE_SWEEP_ENABLED: "false", SCHEDULER_ENABLED: "false" });
    expect(webappEnvironment("webapp").RUN_ENGINE_WORKER_ENABLED).toBe("true");
    expect(api.DATABASE_URL).toBe(webappEnvironment("webapp").DATABASE_URL);
  });

  it("yields an environment that parses, once the required secrets are given", () => {
    const raw = webappEnvironment();
    expect(() => interpolate(raw.SESSION_SECRET, {})).toThrow(/SESSION_SECRET is required/);
    expect(() => interpolate(raw.ENCRYPTION_KEY, {})).toThrow(/ENCRYPTION_KEY is required|set ENCRYPTION_KEY/);
    const vars = { SESSION_SECRET: "0123456789abcdef0123456789abcdef", ENCRYPTION_KEY: "0123456789abcdef0123456789abcdef" };
    const resolved = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, interpolate(v, vars)]));
    const env = parseEnv(resolved);
    expect(env.NODE_ENV).toBe("production");
    expect(env.RUN_OPS_SPLIT_ENABLED).toBe(false);
    expect(new URL(env.DATABASE_URL).hostname).not.toBe(new URL(env.RUN_OPS_DATABASE_URL!).hostname);
  });
});
