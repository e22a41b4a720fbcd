import { z } from "zod";
import { ConfigurationError } from "@runplane/core";
import { singleton } from "~/utils/singleton.server";

/**
 * The one environment schema. Parsed once at boot (`getEnv()`); a bad or missing variable fails boot
 * with an `InvalidEnvironmentError` that names every offending variable. Blank values count as unset.
 */

const TRUE_WORDS = new Set(["true", "1", "yes", "on"]);
const FALSE_WORDS = new Set(["false", "0", "no", "off"]);

function blankToUndefined(value: unknown): unknown {
  return typeof value === "string" && value.trim() === "" ? undefined : value;
}

function bool(defaultValue: boolean) {
  return z.preprocess(
    blankToUndefined,
    z
      .string()
      .optional()
      .transform((raw, ctx) => {
        if (raw === undefined) return defaultValue;
        const word = raw.trim().toLowerCase();
        if (TRUE_WORDS.has(word)) return true;
        if (FALSE_WORDS.has(word)) return false;
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: `expected true/false/1/0, got "${raw}"` });
        return z.NEVER;
      })
  );
}

function int(defaultValue: number, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}) {
  return z.preprocess(
    blankToUndefined,
    z
      .string()
      .optional()
      .transform((raw, ctx) => {
        if (raw === undefined) return defaultValue;
        const value = Number(raw.trim());
        if (!Number.isInteger(value)) {
          ctx.addIssue({ code: z.ZodIssueCode.custom, message: `expected an integer, got "${raw}"` });
          return z.NEVER;
        }
        if (value < min || value > max) {
          ctx.addIssue({ code: z.ZodIssueCode.custom, message: `expected an integer in [${min}, ${max}], got ${value}` });
          return z.NEVER;
        }
        return value;
      })
  );
}

function url(protocols: string[]) {
  return z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    { message: `expected a URL starting with ${protocols.map((p) => `${p}//`).join(" or ")}` }
  );
}

const postgresUrl = () => url(["postgresql:", "postgres:"]);
const redisUrl = () => url(["redis:", "rediss:"]);
const optional = <T extends z.ZodTypeAny>(schema: T) => z.preprocess(blankToUndefined, schema.optional());

const EMAIL = /^[^\s@,]+@[^\s@,]+$/;

export const EnvObjectSchema = z.object({
  NODE_ENV: z.preprocess(blankToUndefined, z.enum(["development", "production", "test"]).default("development")),
  PORT: int(3030, { min: 1, max: 65_535 }),
  /** Public origin of the dashboard and API; defaults to http://localhost:$PORT. */
  APP_ORIGIN: optional(url(["http:", "https:"])),
  LOG_LEVEL: z.preprocess(
    (v) => (typeof v === "string" ? blankToUndefined(v.toLowerCase()) : v),
    z.enum(["debug", "info", "warn", "error"]).default("info")
  ),

  DATABASE_URL: postgresUrl(),
  DATABASE_POOL_SIZE: int(10, { min: 1, max: 1000 }),
  RUN_OPS_DATABASE_URL: optional(postgresUrl()),
  RUN_OPS_SPLIT_ENABLED: bool(false),
  RUN_OPS_MINT_NEW_IDS: bool(false),
  /** Boot with split off even though RUN_OPS_DATABASE_URL holds runs (they answer 410 until split is on again). */
  RUN_OPS_ALLOW_SPLIT_OFF_WITH_RUNS: bool(false),

  REDIS_URL: redisUrl(),
  /** Prepended to every Redis key the webapp writes (engine, mollifier, rate limits): lets several instances or test servers share one Redis. */
  REDIS_KEY_PREFIX: z.preprocess(blankToUndefined, z.string().regex(/^[A-Za-z0-9:_-]*$/, "letters, digits, ':', '_' or '-' only").default("")),
  REALTIME_BACKEND: z.preprocess(blankToUndefined, z.enum(["native", "electric"]).default("native")),
  /** How long a live realtime request waits for a change before answering "up to date" (Electric's ~20 s). */
  REALTIME_LIVE_HOLD_MS: int(20_000, { min: 0, max: 120_000 }),

  /** Signs session cookies. Required in production; development gets a fixed placeholder. */
  SESSION_SECRET: optional(z.string().min(16, "must be at least 16 characters")),
  ADMIN_EMAILS: z.preprocess(
    blankToUndefined,
    z
      .string()
      .default("admin@localhost")
      .transform((raw, ctx) => {
        const emails = raw
          .split(",")
          .map((e) => e.trim().toLowerCase())
          .filter(Boolean);
        const bad = emails.filter((e) => !EMAIL.test(e));
        if (bad.length > 0 || emails.length === 0) {
          ctx.addIssue({ code: z.ZodIssueCode.custom, message: `expected comma-separated emails, got "${raw}"` });
          return z.NEVER;
        }
        return [...new Set(emails)];
      })
  ),
  BOOTSTRAP_DEV_SECRET_KEY: optional(z.string().regex(/^tr_dev_[0-9A-Za-z]{8,}$/, "expected tr_dev_ followed by at least 8 letters or digits")),
  BOOTSTRAP_PROD_SECRET_KEY: optional(z.string().regex(/^tr_prod_[0-9A-Za-z]{8,}$/, "expected tr_prod_ followed by at least 8 letters or digits")),
  /** Pins a personal access token (for the trigger.dev CLI) of the first admin in ADMIN_EMAILS. */
  BOOTSTRAP_ADMIN_PAT: optional(z.string().regex(/^tr_pat_[0-9A-Za-z]{40}$/, "expected tr_pat_ followed by 40 letters or digits")),

  API_RATE_LIMIT_ENABLED: bool(true),
  /** Tokens added to each environment's bucket every API_RATE_LIMIT_REFILL_INTERVAL_MS. */
  API_RATE_LIMIT_REFILL_RATE: int(10_000, { min: 1 }),
  API_RATE_LIMIT_REFILL_INTERVAL_MS: int(10_000, { min: 1 }),
  API_RATE_LIMIT_BUCKET_SIZE: int(20_000, { min: 1 }),

  MOLLIFIER_ENABLED: bool(true),
  MOLLIFIER_TRIP_WINDOW_MS: int(200, { min: 1 }),
  MOLLIFIER_TRIP_THRESHOLD: int(100, { min: 1 }),
  MOLLIFIER_HOLD_MS: int(500, { min: 0 }),
  MOLLIFIER_DRAINER_ENABLED: bool(true),
  MOLLIFIER_DRAIN_CONCURRENCY: int(50, { min: 1 }),
  MOLLIFIER_DRAIN_BATCH_SIZE: int(100, { min: 1 }),
  MOLLIFIER_DRAIN_MAX_ATTEMPTS: int(3, { min: 1 }),
  /** The in-process drainer yields while the event loop lags more than this (ms): accepting keeps priority. 0 = never. */
  MOLLIFIER_DRAIN_MAX_LOOP_LAG_MS: int(50, { min: 0 }),
  MOLLIFIER_STALE_SWEEP_ENABLED: bool(true),
  MOLLIFIER_STALE_SWEEP_INTERVAL_MS: int(60_000, { min: 1 }),
  MOLLIFIER_STALE_THRESHOLD_MS: int(300_000, { min: 1 }),
  /** Falls back to REDIS_URL. */
  MOLLIFIER_REDIS_URL: optional(redisUrl()),

  RUN_ENGINE_WORKER_ENABLED: bool(true),
  /** A run whose worker sent no heartbeat for this long is retried (or failed) as stalled. */
  RUN_ENGINE_HEARTBEAT_TIMEOUT_MS: int(60_000, { min: 1_000 }),
  /** The cron scheduler loop (one instance fires each tick, under a Redis lease). */
  SCHEDULER_ENABLED: bool(true),
  /** How often the scheduler looks for due ticks (ms). */
  SCHEDULER_INTERVAL_MS: int(1_000, { min: 10, max: 60_000 }),
  /** How long the scheduler's lease outlives its holder's last pass (ms); another instance takes over after it. */
  SCHEDULER_LEASE_MS: int(30_000, { min: 1_000 }),

  /** Encrypts environment variables at rest (AES-256-GCM; 32+ characters). Required in production. */
  ENCRYPTION_KEY: optional(z.string().min(32, "must be at least 32 characters")),
  /** S3-compatible endpoint for offloaded payloads and outputs; unset = chunks in Postgres. */
  OBJECT_STORE_URL: optional(url(["http:", "https:"])),
  OBJECT_STORE_BUCKET: z.preprocess(blankToUndefined, z.string().default("runplane-packets")),
  OBJECT_STORE_REGION: z.preprocess(blankToUndefined, z.string().default("us-east-1")),
  OBJECT_STORE_ACCESS_KEY_ID: optional(z.string()),
  OBJECT_STORE_SECRET_ACCESS_KEY: optional(z.string()),
  BULK_ACTION_WORKER_ENABLED: bool(true),
  /** Runs cancelled or replayed per batch of a bulk action. */
  BULK_ACTION_BATCH_SIZE: int(100, { min: 1, max: 1000 }),

  /** Run traces (spans and logs): day partitions older than this are dropped. */
  EVENT_RETENTION_DAYS: int(7, { min: 1, max: 3650 }),
  EVENT_RETENTION_INTERVAL_MS: int(3_600_000, { min: 1_000 }),
  /** Spans and log records queued for insert above which the OTLP receiver answers 503. */
  EVENT_INGEST_MAX_PENDING: int(100_000, { min: 100 }),
  /** Records per multi-row insert. */
  EVENT_INGEST_BATCH_SIZE: int(5_000, { min: 1, max: 50_000 }),
  /** maximumConcurrencyLimit of bootstrapped and new environments, and the run queue's limit for an environment it has none for. */
  DEFAULT_ENV_CONCURRENCY_LIMIT: int(100, { min: 1, max: 100_000 }),
  /** How often the engine's repair sweep runs (runs left unqueued, slots left held by a crash); 0 disables. */
  RUN_ENGINE_REPAIR_INTERVAL_MS: int(30_000, { min: 0 }),
  /** Test only: the process SIGKILLs itself at this engine failpoint (e.g. `block:afterTransition`). Never set in production. */
  RUNPLANE_TEST_FAILPOINT: optional(z.string().regex(/^[a-zA-Z:]+$/, "a failpoint name")),
  /** How long shutdown waits for background workers and open requests before closing pools. */
  GRACEFUL_SHUTDOWN_TIMEOUT_MS: int(30_000, { min: 0 }),
});

const DEVELOPMENT_SESSION_SECRET = "runplane-development-session-secret";
const DEVELOPMENT_ENCRYPTION_KEY = "runplane-development-encryption-key-not-secret";

export const EnvSchema = EnvObjectSchema.superRefine((env, ctx) => {
  if (env.RUN_OPS_SPLIT_ENABLED === true && !env.RUN_OPS_DATABASE_URL) {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      path: ["RUN_OPS_DATABASE_URL"],
      message: "required when RUN_OPS_SPLIT_ENABLED is on",
    });
  }
  if (env.NODE_ENV === "production" && !env.SESSION_SECRET) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["SESSION_SECRET"], message: "required when NODE_ENV=production" });
  }
  if (env.NODE_ENV === "production" && !env.ENCRYPTION_KEY) {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      path: ["ENCRYPTION_KEY"],
      message: "required when NODE_ENV=production (encrypts environment variables; e.g. openssl rand -hex 32)",
    });
  }
  if (env.OBJECT_STORE_URL && (!env.OBJECT_STORE_ACCESS_KEY_ID || !env.OBJECT_STORE_SECRET_ACCESS_KEY)) {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      path: ["OBJECT_STORE_ACCESS_KEY_ID"],
      message: "OBJECT_STORE_ACCESS_KEY_ID and OBJECT_STORE_SECRET_ACCESS_KEY are required with OBJECT_STORE_URL",
    });
  }
}).transform((env) => ({
  ...env,
  APP_ORIGIN: (env.APP_ORIGIN ?? `http://localhost:${env.PORT}`).replace(/\/+$/, ""),
  SESSION_SECRET: env.SESSION_SECRET ?? DEVELOPMENT_SESSION_SECRET,
  ENCRYPTION_KEY: env.ENCRYPTION_KEY ?? DEVELOPMENT_ENCRYPTION_KEY,
  MOLLIFIER_REDIS_URL: env.MOLLIFIER_REDIS_URL ?? env.REDIS_URL,
}));

export type Env = z.output<typeof EnvSchema>;

/** Every variable the schema reads (deployment files must not set anything else). */
export const ENV_KEYS = Object.keys(EnvObjectSchema.shape) as (keyof z.input<typeof EnvObjectSchema>)[];

export type EnvIssue = { variable: string; message: string };

export class InvalidEnvironmentError extends ConfigurationError {
  readonly issues: EnvIssue[];
  constructor(issues: EnvIssue[]) {
    super(
      "invalid_environment",
      `Invalid environment: ${issues.map((i) => `${i.variable} (${i.message})`).join("; ")}`
    );
    this.issues = issues;
  }
}

/** Pure: parses a variable map. Throws InvalidEnvironmentError listing every bad variable. */
export function parseEnv(source: Record<string, string | undefined>): Env {
  const result = EnvSchema.safeParse(source);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    variable: String(issue.path[0] ?? "(environment)"),
    message: issue.message,
  }));
  throw new InvalidEnvironmentError(issues);
}

/** The process environment, parsed once. */
export function getEnv(): Env {
  return singleton("env", () => parseEnv(process.env));
}
