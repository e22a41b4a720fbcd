export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogSink = (line: string, level: LogLevel) => void;
/** Sees every entry, whatever the level (the task logger's OTLP export): message, call fields, child fields. */
export type LogTap = (level: LogLevel, message: string, fields: Record<string, unknown>, context: Record<string, unknown>) => void;

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export const stdoutSink: LogSink = (line) => {
  process.stdout.write(line + "\n");
};

function encodeValue(value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  return value;
}

/** Structured JSON lines, one per entry: `{"time","level","msg",…fields}`. The one logger of the worker. */
export class Logger {
  constructor(
    private readonly options: { level: LogLevel; sink: LogSink; tap?: LogTap },
    private readonly fields: Record<string, unknown> = {},
  ) {}

  get level(): LogLevel {
    return this.options.level;
  }

  child(fields: Record<string, unknown>): Logger {
    return new Logger(this.options, { ...this.fields, ...fields });
  }

  enabled(level: LogLevel): boolean {
    return ORDER[level] >= ORDER[this.options.level];
  }

  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
    this.options.tap?.(level, message, fields ?? {}, this.fields);
    if (!this.enabled(level)) return;
    const entry: Record<string, unknown> = { time: new Date().toISOString(), level, msg: message, ...this.fields };
    for (const [key, value] of Object.entries(fields ?? {})) entry[key] = encodeValue(value);
    let line: string;
    try {
      line = JSON.stringify(entry);
    } catch {
      line = JSON.stringify({ time: entry.time, level, msg: message, ...this.fields, fields: "[unserializable]" });
    }
    this.options.sink(line, level);
  }

  debug(message: string, fields?: Record<string, unknown>): void {
    this.log("debug", message, fields);
  }
  info(message: string, fields?: Record<string, unknown>): void {
    this.log("info", message, fields);
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    this.log("warn", message, fields);
  }
  error(message: string, fields?: Record<string, unknown>): void {
    this.log("error", message, fields);
  }
}

export function parseLogLevel(value: string | undefined, fallback: LogLevel = "info"): LogLevel {
  return value && value in ORDER ? (value as LogLevel) : fallback;
}
