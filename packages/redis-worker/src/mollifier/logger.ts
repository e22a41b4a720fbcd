/** The slice of the webapp's one logger the mollifier needs; the default drops everything. */
export type MollifierLogger = {
  debug(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
};

export const silentLogger: MollifierLogger = {
  debug() {},
  warn() {},
  error() {},
};

export function errorFields(error: unknown): Record<string, unknown> {
  if (error instanceof Error) return { error: error.message, errorName: error.name };
  return { error: String(error) };
}
