// Run-ops database client. Only @internal/run-store may import this package.
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "./generated/prisma/client.js";

export {
  PrismaClient as RunOpsClient,
  Prisma as RunOpsPrisma,
  TaskRunStatus,
  TaskRunExecutionStatus,
  WaitpointType,
  WaitpointStatus,
  BatchTaskRunStatus,
} from "./generated/prisma/client.js";
export type {
  TaskRun,
  TaskRunExecutionSnapshot,
  Waitpoint,
  TaskRunWaitpoint,
  BatchTaskRun,
  BatchTaskRunError,
} from "./generated/prisma/client.js";

export function createRunOpsClient(options: { connectionString: string; max?: number; applicationName?: string }) {
  return new PrismaClient({
    adapter: new PrismaPg({
      connectionString: options.connectionString,
      max: options.max ?? 10,
      application_name: options.applicationName ?? "runplane-run-ops",
    }),
  });
}
