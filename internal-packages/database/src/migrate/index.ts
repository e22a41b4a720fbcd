import path from "node:path";
import { fileURLToPath } from "node:url";

export * from "./migrate.js";

const here = path.dirname(fileURLToPath(import.meta.url));

/** Migration folders of the two schemas, in Prisma's layout. */
export const MIGRATIONS_DIRS = {
  "control-plane": path.resolve(here, "../../prisma/migrations"),
  "run-ops": path.resolve(here, "../../../run-ops-database/prisma/migrations"),
} as const;
export type SchemaName = keyof typeof MIGRATIONS_DIRS;
