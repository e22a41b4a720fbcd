// The control-plane client seen as a run-table store (legacy residency). Only @internal/run-store may import this.
export { PrismaClient as LegacyRunTablesClient } from "./generated/prisma/client.js";
export * as LegacyRunTables from "./generated/prisma/client.js";
