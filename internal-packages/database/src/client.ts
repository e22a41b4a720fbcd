import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "./generated/prisma/client.js";

export type ControlPlaneClientOptions = { connectionString: string; max?: number; applicationName?: string };

/** Control-plane Prisma client over node-postgres (no engine binary needed). */
export function createControlPlaneClient(options: ControlPlaneClientOptions): PrismaClient {
  const adapter = new PrismaPg({
    connectionString: options.connectionString,
    max: options.max ?? 10,
    application_name: options.applicationName ?? "runplane",
  });
  return new PrismaClient({ adapter });
}
