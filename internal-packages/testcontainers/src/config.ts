/** Local servers by default; CI and developers' machines have both running. */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

export function databaseUrl(baseUrl: string, name: string): string {
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * `RUNPLANE_TEST_SPLIT`: "1"/"true" runs the mode-aware suites in split mode only (two databases,
 * NEW ids), "0"/"false" in single-database mode only; unset leaves each suite's own default.
 */
export function testSplitModeFromEnv(value = process.env.RUNPLANE_TEST_SPLIT): boolean | undefined {
  const word = value?.trim().toLowerCase();
  if (!word) return undefined;
  if (word === "1" || word === "true") return true;
  if (word === "0" || word === "false") return false;
  throw new Error(`RUNPLANE_TEST_SPLIT must be 1/true or 0/false, got "${value}"`);
}
