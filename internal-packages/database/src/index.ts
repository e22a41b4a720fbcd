// Control-plane models only. Run-table access goes through @internal/run-store.
export { createControlPlaneClient, type ControlPlaneClientOptions } from "./client.js";
export {
  PrismaClient as ControlPlaneClient,
  Prisma as ControlPlanePrisma,
  RuntimeEnvironmentType,
  TaskQueueType,
  TaskScheduleType,
} from "./generated/prisma/client.js";
export type {
  User,
  Organization,
  OrgMember,
  Project,
  RuntimeEnvironment,
  BackgroundWorker,
  BackgroundWorkerTask,
  TaskQueue,
  TaskSchedule,
  UserSession,
} from "./generated/prisma/client.js";
