import { defineProject } from "vitest/config";

type ProjectTestOptions = NonNullable<Parameters<typeof defineProject>[0] extends infer C ? (C extends { test?: infer T } ? T : never) : never>;

/** Shared test settings: real Postgres and Redis, bounded parallelism for a 2-core machine. */
export function runplaneProject(name: string, overrides: ProjectTestOptions = {}) {
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
