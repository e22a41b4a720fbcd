import { defineProject } from "vitest/config";

/** Shared test settings: real Postgres and Redis, bounded parallelism for a 2-core machine. */
export function runplaneProject(name: string, overrides: Parameters<typeof defineProject>[0]["test"] = {}) {
  return defineProject({
    test: {
      name,
      include: ["test/**/*.test.ts", "src/**/*.test.ts"],
      testTimeout: 30_000,
      hookTimeout: 60_000,
      pool: "forks",
      ...overrides,
    },
  });
}
