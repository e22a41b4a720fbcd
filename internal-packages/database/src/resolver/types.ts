import type { RuntimeEnvironmentType } from "../generated/prisma/client.js";

/**
 * Control-plane lookups that run-side code needs (engine, routes, presenters). Implementations cache;
 * callers never join run tables to these rows in SQL. Returned objects may be shared: treat them as
 * read-only. Invalidation is in-process; other processes converge within the cache TTL.
 */
export type ResolvedEnvironment = {
  id: string;
  slug: string;
  type: RuntimeEnvironmentType;
  projectId: string;
  organizationId: string;
  maximumConcurrencyLimit: number;
  paused: boolean;
  archivedAt: Date | null;
};

export type AuthenticatedEnvironment = ResolvedEnvironment & {
  apiKey: string;
  pkApiKey: string;
  project: { id: string; slug: string; name: string; externalRef: string };
  organization: { id: string; slug: string; title: string; featureFlags: Record<string, unknown>; maximumConcurrencyLimit: number };
};

export type ResolvedTaskQueue = { id: string; friendlyId: string; name: string; concurrencyLimit: number | null; paused: boolean };

export type ResolvedWorkerTask = {
  id: string;
  slug: string;
  queue: ResolvedTaskQueue | null;
  retryConfig: unknown;
  machineConfig: unknown;
  maxDurationInSeconds: number | null;
};

export type ResolvedWorkerVersion = {
  worker: { id: string; friendlyId: string; version: string; sdkVersion: string; runtimeEnvironmentId: string; createdAt: Date };
  tasks: ResolvedWorkerTask[];
};

export interface ControlPlaneResolver {
  resolveEnv(environmentId: string): Promise<ResolvedEnvironment | null>;
  resolveAuthenticatedEnv(environmentId: string): Promise<AuthenticatedEnvironment | null>;
  /** By secret key (`tr_dev_…`) or public key (`pk_dev_…`). Archived environments are returned too: check `archivedAt`. */
  resolveEnvByApiKey(apiKey: string): Promise<AuthenticatedEnvironment | null>;
  /** A specific version when given, else the newest worker registered in the environment. */
  resolveWorkerVersion(environmentId: string, options?: { version?: string; workerId?: string }): Promise<ResolvedWorkerVersion | null>;
  /** Throws NotFoundError (from @runplane/core) when the environment does not exist. */
  assertEnvExists(environmentId: string): Promise<ResolvedEnvironment>;
  /** After writing an environment row (keys rotated, paused, limits) or creating one that was looked up before. */
  invalidateEnv(environmentId: string): void;
  /** After writing an organisation row (flags, limits): every cached environment of the org. */
  invalidateOrg(organizationId: string): void;
  /** After registering or changing a worker of the environment. */
  invalidateWorkers(environmentId: string): void;
}
