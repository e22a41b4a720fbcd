import type { Prisma, PrismaClient } from "../generated/prisma/client.js";
import type { AuthenticatedEnvironment, ResolvedEnvironment, ResolvedWorkerVersion } from "./types.js";

// The row shapes the resolver loads, and their mapping to the resolver's own types.

const environmentInclude = {
  project: { select: { id: true, slug: true, name: true, externalRef: true } },
  organization: { select: { id: true, slug: true, title: true, featureFlags: true, maximumConcurrencyLimit: true } },
} satisfies Prisma.RuntimeEnvironmentInclude;

type EnvironmentRow = Prisma.RuntimeEnvironmentGetPayload<{ include: typeof environmentInclude }>;

const workerInclude = {
  tasks: {
    orderBy: { slug: "asc" },
    include: { queue: { select: { id: true, friendlyId: true, name: true, concurrencyLimit: true, paused: true } } },
  },
} satisfies Prisma.BackgroundWorkerInclude;

type WorkerRow = Prisma.BackgroundWorkerGetPayload<{ include: typeof workerInclude }>;

export async function loadEnvironmentById(db: PrismaClient, id: string): Promise<AuthenticatedEnvironment | null> {
  const row = await db.runtimeEnvironment.findUnique({ where: { id }, include: environmentInclude });
  return row ? toAuthenticatedEnvironment(row) : null;
}

/** Matches the secret key or the public key; both columns are unique. */
export async function loadEnvironmentByApiKey(db: PrismaClient, apiKey: string): Promise<AuthenticatedEnvironment | null> {
  const row = await db.runtimeEnvironment.findFirst({
    where: { OR: [{ apiKey }, { pkApiKey: apiKey }] },
    include: environmentInclude,
  });
  return row ? toAuthenticatedEnvironment(row) : null;
}

/** A pinned worker (by version and/or id) or, with neither, the newest one of the environment. */
export async function loadWorkerVersion(
  db: PrismaClient,
  environmentId: string,
  pin: { version?: string; workerId?: string }
): Promise<ResolvedWorkerVersion | null> {
  const row = await db.backgroundWorker.findFirst({
    where: {
      runtimeEnvironmentId: environmentId,
      ...(pin.version !== undefined ? { version: pin.version } : {}),
      ...(pin.workerId !== undefined ? { id: pin.workerId } : {}),
    },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    include: workerInclude,
  });
  return row ? toWorkerVersion(row) : null;
}

export function toResolvedEnvironment(env: AuthenticatedEnvironment): ResolvedEnvironment {
  return {
    id: env.id,
    slug: env.slug,
    type: env.type,
    projectId: env.projectId,
    organizationId: env.organizationId,
    maximumConcurrencyLimit: env.maximumConcurrencyLimit,
    paused: env.paused,
    archivedAt: env.archivedAt,
  };
}

function toAuthenticatedEnvironment(row: EnvironmentRow): AuthenticatedEnvironment {
  return {
    id: row.id,
    slug: row.slug,
    type: row.type,
    projectId: row.projectId,
    organizationId: row.organizationId,
    maximumConcurrencyLimit: row.maximumConcurrencyLimit,
    paused: row.paused,
    archivedAt: row.archivedAt,
    apiKey: row.apiKey,
    pkApiKey: row.pkApiKey,
    project: row.project,
    organization: { ...row.organization, featureFlags: asFlagRecord(row.organization.featureFlags) },
  };
}

/** featureFlags is a JSON column; anything but a plain object counts as "no flags". */
function asFlagRecord(value: Prisma.JsonValue): Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? { ...value } : {};
}

function toWorkerVersion(row: WorkerRow): ResolvedWorkerVersion {
  return {
    worker: {
      id: row.id,
      friendlyId: row.friendlyId,
      version: row.version,
      sdkVersion: row.sdkVersion,
      runtimeEnvironmentId: row.runtimeEnvironmentId,
      createdAt: row.createdAt,
    },
    tasks: row.tasks.map((task) => ({
      id: task.id,
      slug: task.slug,
      queue: task.queue,
      retryConfig: task.retryConfig,
      machineConfig: task.machineConfig,
      maxDurationInSeconds: task.maxDurationInSeconds,
    })),
  };
}
