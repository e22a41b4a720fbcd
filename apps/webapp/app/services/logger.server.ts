import { singleton } from "~/utils/singleton.server";

/**
 * The one logger: one JSON object per line on stdout (warn and error on stderr), with a level
 * threshold and child loggers that carry fields. Values under secret-looking keys are redacted.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

const LEVEL_ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const REDACTED_KEY = /pass(word)?|secret|token|authorization|cookie|api_?key/i;

export type LogSink = (level: LogLevel, line: string) => void;

const defaultSink: LogSink = (level, line) => {
  (level === "warn" || level === "error" ? process.stderr : process.stdout).write(line + "\n");
};

export class Logger {
  constructor(
    private readonly level: LogLevel = "info",
    private readonly fields: LogFields = {},
    private readonly sink: LogSink = defaultSink
  ) {}

  child(fields: LogFields): Logger {
    return new Logger(this.level, { ...this.fields, ...fields }, this.sink);
  }

  isEnabled(level: LogLevel): boolean {
    return LEVEL_ORDER[level] >= LEVEL_ORDER[this.level];
  }

  debug(message: string, fields?: LogFields): void {
    this.write("debug", message, fields);
  }
  info(message: string, fields?: LogFields): void {
    this.write("info", message, fields);
  }
  warn(message: string, fields?: LogFields): void {
    this.write("warn", message, fields);
  }
  error(message: string, fields?: LogFields): void {
    this.write("error", message, fields);
  }

  private write(level: LogLevel, message: string, fields?: LogFields): void {
    if (!this.isEnabled(level)) return;
    const entry = { time: new Date().toISOString(), level, message, ...this.fields, ...fields };
    this.sink(level, JSON.stringify(entry, replacer));
  }
}

function replacer(key: string, value: unknown): unknown {
  if (key && REDACTED_KEY.test(key) && value !== undefined && value !== null && typeof value !== "object") {
    return "[redacted]";
  }
  if (value instanceof Error) {
    const { name, message, stack } = value;
    const extra = value as Error & { code?: unknown; cause?: unknown };
    return { name, message, code: extra.code, stack, cause: extra.cause };
  }
  if (typeof value === "bigint") return value.toString();
  return value;
}

export function createLogger(options: { level?: LogLevel; fields?: LogFields; sink?: LogSink } = {}): Logger {
  return new Logger(options.level, options.fields, options.sink);
}

function levelFromProcess(): LogLevel {
  const raw = process.env.LOG_LEVEL?.trim().toLowerCase();
  return raw && raw in LEVEL_ORDER ? (raw as LogLevel) : "info";
}

/**
 * The process logger. Its level comes from LOG_LEVEL directly so that logging works even when the
 * rest of the environment fails to parse (boot still validates LOG_LEVEL with the schema).
 */
export const logger: Logger = singleton("logger", () => createLogger({ level: levelFromProcess(), fields: { service: "webapp" } }));
