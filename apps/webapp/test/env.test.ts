import { describe, expect, it } from "vitest";
import { ENV_KEYS, InvalidEnvironmentError, parseEnv } from "~/env.server";

const base = { DATABASE_URL: "postgresql://postgres@127.0.0.1:5432/runplane", REDIS_URL: "redis://127.0.0.1:6379" };

function parseError(source: Record<string, string | undefined>): InvalidEnvironmentError {
  try {
    parseEnv(source);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidEnvironmentError);
    return error as InvalidEnvironmentError;
  }
  throw new Error("expected parseEnv to throw");
}

describe("parseEnv", () => {
  it("applies the documented defaults", () => {
    const env = parseEnv(base);
    expect(env).toMatchObject({
      NODE_ENV: "development",
      PORT: 3030,
      APP_ORIGIN: "http://localhost:3030",
      DATABASE_POOL_SIZE: 10,
      RUN_OPS_SPLIT_ENABLED: false,
      RUN_OPS_MINT_NEW_IDS: false,
      REALTIME_BACKEND: "native",
      ADMIN_EMAILS: ["admin@localhost"],
      LOG_LEVEL: "info",
      API_RATE_LIMIT_ENABLED: true,
      MOLLIFIER_ENABLED: true,
      MOLLIFIER_TRIP_WINDOW_MS: 200,
      MOLLIFIER_TRIP_THRESHOLD: 100,
      MOLLIFIER_HOLD_MS: 500,
      MOLLIFIER_DRAINER_ENABLED: true,
      MOLLIFIER_DRAIN_CONCURRENCY: 50,
      MOLLIFIER_DRAIN_BATCH_SIZE: 100,
      MOLLIFIER_DRAIN_MAX_ATTEMPTS: 3,
      MOLLIFIER_STALE_SWEEP_ENABLED: true,
      MOLLIFIER_REDIS_URL: base.REDIS_URL,
      RUN_ENGINE_WORKER_ENABLED: true,
    });
    expect(env.RUN_OPS_DATABASE_URL).toBeUndefined();
    expect(env.BOOTSTRAP_DEV_SECRET_KEY).toBeUndefined();
    expect(env.SESSION_SECRET.length).toBeGreaterThanOrEqual(16);
  });

  it.each([
    ["false", false],
    ["0", false],
    ["no", false],
    ["off", false],
    ["FALSE", false],
    [" false ", false],
    ["true", true],
    ["1", true],
    ["TRUE", true],
    ["yes", true],
  ])("parses the boolean %j as %s", (raw, expected) => {
    const env = parseEnv({ ...base, MOLLIFIER_ENABLED: raw, RUN_ENGINE_WORKER_ENABLED: raw });
    expect(env.MOLLIFIER_ENABLED).toBe(expected);
    expect(env.RUN_ENGINE_WORKER_ENABLED).toBe(expected);
  });

  it("treats blank values as unset", () => {
    const env = parseEnv({ ...base, MOLLIFIER_ENABLED: "", PORT: " ", RUN_OPS_DATABASE_URL: "", APP_ORIGIN: "" });
    expect(env.MOLLIFIER_ENABLED).toBe(true);
    expect(env.PORT).toBe(3030);
    expect(env.RUN_OPS_DATABASE_URL).toBeUndefined();
  });

  it("rejects a boolean it cannot read instead of guessing", () => {
    const error = parseError({ ...base, MOLLIFIER_ENABLED: "maybe" });
    expect(error.issues).toEqual([{ variable: "MOLLIFIER_ENABLED", message: 'expected true/false/1/0, got "maybe"' }]);
  });

  it("names every bad variable in one error", () => {
    const error = parseError({ DATABASE_URL: "mysql://x", PORT: "eighty", REDIS_URL: undefined, DATABASE_POOL_SIZE: "0" });
    expect(error.issues.map((i) => i.variable).sort()).toEqual(["DATABASE_POOL_SIZE", "DATABASE_URL", "PORT", "REDIS_URL"]);
    expect(error.message).toContain("DATABASE_URL");
    expect(error.message).toContain("PORT");
    expect(error.code).toBe("invalid_environment");
  });

  it("parses integers and derives APP_ORIGIN from PORT", () => {
    const env = parseEnv({ ...base, PORT: "4000", MOLLIFIER_HOLD_MS: "0", MOLLIFIER_DRAIN_CONCURRENCY: "8" });
    expect(env.PORT).toBe(4000);
    expect(env.APP_ORIGIN).toBe("http://localhost:4000");
    expect(env.MOLLIFIER_HOLD_MS).toBe(0);
    expect(env.MOLLIFIER_DRAIN_CONCURRENCY).toBe(8);
    expect(parseError({ ...base, PORT: "3.5" }).issues[0].variable).toBe("PORT");
    expect(parseError({ ...base, PORT: "70000" }).issues[0].variable).toBe("PORT");
  });

  it("keeps an explicit APP_ORIGIN without its trailing slash", () => {
    expect(parseEnv({ ...base, APP_ORIGIN: "https://runs.example.com/" }).APP_ORIGIN).toBe("https://runs.example.com");
  });

  it("requires RUN_OPS_DATABASE_URL when split is on", () => {
    const error = parseError({ ...base, RUN_OPS_SPLIT_ENABLED: "true" });
    expect(error.issues).toEqual([{ variable: "RUN_OPS_DATABASE_URL", message: "required when RUN_OPS_SPLIT_ENABLED is on" }]);
    const env = parseEnv({ ...base, RUN_OPS_SPLIT_ENABLED: "1", RUN_OPS_DATABASE_URL: "postgres://h/ops" });
    expect(env.RUN_OPS_SPLIT_ENABLED).toBe(true);
  });

  it("requires SESSION_SECRET in production", () => {
    expect(parseError({ ...base, NODE_ENV: "production" }).issues[0].variable).toBe("SESSION_SECRET");
    expect(parseError({ ...base, SESSION_SECRET: "short" }).issues[0].variable).toBe("SESSION_SECRET");
    const env = parseEnv({ ...base, NODE_ENV: "production", SESSION_SECRET: "0123456789abcdef0123", ENCRYPTION_KEY: "k".repeat(32) });
    expect(env.SESSION_SECRET).toBe("0123456789abcdef0123");
  });

  it("requires ENCRYPTION_KEY (32+ characters) in production, with a message saying why", () => {
    const missing = parseError({ ...base, NODE_ENV: "production", SESSION_SECRET: "0123456789abcdef0123" });
    expect(missing.issues).toEqual([{ variable: "ENCRYPTION_KEY", message: expect.stringMatching(/required when NODE_ENV=production \(encrypts environment variables/) }]);
    expect(parseError({ ...base, ENCRYPTION_KEY: "short" }).issues[0].variable).toBe("ENCRYPTION_KEY");
    expect(parseEnv(base).ENCRYPTION_KEY.length).toBeGreaterThanOrEqual(32); // development placeholder
  });

  it("requires S3 credentials with OBJECT_STORE_URL", () => {
    expect(parseError({ ...base, OBJECT_STORE_URL: "http://127.0.0.1:9000" }).issues[0].variable).toBe("OBJECT_STORE_ACCESS_KEY_ID");
    const env = parseEnv({ ...base, OBJECT_STORE_URL: "http://127.0.0.1:9000", OBJECT_STORE_ACCESS_KEY_ID: "a", OBJECT_STORE_SECRET_ACCESS_KEY: "b" });
    expect(env.OBJECT_STORE_BUCKET).toBe("runplane-packets");
  });

  it("splits, lower-cases and de-duplicates ADMIN_EMAILS", () => {
    const env = parseEnv({ ...base, ADMIN_EMAILS: "Ops@Example.com, dev@example.com,ops@example.com" });
    expect(env.ADMIN_EMAILS).toEqual(["ops@example.com", "dev@example.com"]);
    expect(parseError({ ...base, ADMIN_EMAILS: "not-an-email" }).issues[0].variable).toBe("ADMIN_EMAILS");
  });

  it("validates the bootstrap key shapes", () => {
    const env = parseEnv({ ...base, BOOTSTRAP_DEV_SECRET_KEY: "tr_dev_abcdefgh12345678", BOOTSTRAP_PROD_SECRET_KEY: "tr_prod_ABCDEFGH12345678" });
    expect(env.BOOTSTRAP_DEV_SECRET_KEY).toBe("tr_dev_abcdefgh12345678");
    expect(parseError({ ...base, BOOTSTRAP_DEV_SECRET_KEY: "tr_prod_abcdefgh12345678" }).issues[0].variable).toBe(
      "BOOTSTRAP_DEV_SECRET_KEY"
    );
  });

  it("lets MOLLIFIER_REDIS_URL override REDIS_URL", () => {
    expect(parseEnv({ ...base, MOLLIFIER_REDIS_URL: "redis://10.0.0.2:6380" }).MOLLIFIER_REDIS_URL).toBe("redis://10.0.0.2:6380");
  });

  it("only accepts the known realtime backends and log levels", () => {
    expect(parseEnv({ ...base, REALTIME_BACKEND: "electric", LOG_LEVEL: "DEBUG" })).toMatchObject({
      REALTIME_BACKEND: "electric",
      LOG_LEVEL: "debug",
    });
    expect(parseError({ ...base, REALTIME_BACKEND: "shadow" }).issues[0].variable).toBe("REALTIME_BACKEND");
  });

  it("ignores variables outside the schema and lists the ones it reads", () => {
    expect(() => parseEnv({ ...base, UNRELATED: "x" })).not.toThrow();
    expect(ENV_KEYS).toContain("MOLLIFIER_DRAIN_BATCH_SIZE");
    expect(ENV_KEYS).toContain("RUN_OPS_MINT_NEW_IDS");
  });
});
