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

/** Shared by a logger and all its children, so `setLevel` on the root applies everywhere. */
type LoggerState = { level: LogLevel; sink: LogSink };

export class Logger {
  private constructor(
    private readonly state: LoggerState,
    private readonly fields: LogFields
  ) {}

  static create(level: LogLevel = "info", fields: LogFields = {}, sink: LogSink = defaultSink): Logger {
    return new Logger({ level, sink }, fields);
  }

  child(fields: LogFields): Logger {
    return new Logger(this.state, { ...this.fields, ...fields });
  }

  get level(): LogLevel {
    return this.state.level;
  }

  /** Changes the threshold of this logger, its parent and all its children. */
  setLevel(level: LogLevel): void {
    this.state.level = level;
  }

  isEnabled(level: LogLevel): boolean {
    return LEVEL_ORDER[level] >= LEVEL_ORDER[this.state.level];
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
    this.state.sink(level, JSON.stringify(entry, replacer));
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
  return Logger.create(options.level, options.fields, options.sink);
}

function levelFromProcess(): LogLevel {
  const raw = process.env.LOG_LEVEL?.trim().toLowerCase();
  return raw && raw in LEVEL_ORDER ? (raw as LogLevel) : "info";
}

/**
 * The process logger. It starts at LOG_LEVEL as read from the process (so logging works even when
 * the environment fails to parse); boot sets the validated level.
 */
export const logger: Logger = singleton("logger", () => createLogger({ level: levelFromProcess(), fields: { service: "webapp" } }));
