import { randomBytes } from "node:crypto";
import { PrismaPg } from "@prisma/adapter-pg";
import { generateCuid } from "@runplane/core";
import { PrismaClient, type Prisma } from "../src/generated/prisma/client.js";

/** A control-plane client that counts the SQL statements it sends (to prove a cache hit queried nothing). */
export function countingClient(databaseUrl: string): { client: PrismaClient; queries: () => number } {
  let count = 0;
  const client = new PrismaClient({
    adapter: new PrismaPg({ connectionString: databaseUrl, max: 2 }),
    log: [{ emit: "event", level: "query" }],
  });
  client.$on("query", () => {
    count++;
  });
  return { client, queries: () => count };
}

const token = () => randomBytes(6).toString("hex");

export async function seedOrganization(db: PrismaClient, featureFlags: Prisma.InputJsonObject = {}) {
  return db.organization.create({ data: { id: generateCuid(), slug: `org-${token()}`, title: "Acme", featureFlags } });
}

export async function seedEnvironment(
  db: PrismaClient,
  organizationId: string,
  overrides: { type?: "DEVELOPMENT" | "PRODUCTION"; maximumConcurrencyLimit?: number } = {}
) {
  const project = await db.project.create({
    data: { id: generateCuid(), slug: `p-${token()}`, name: "Project", externalRef: `proj_${token()}`, organizationId },
  });
  const type = overrides.type ?? "DEVELOPMENT";
  const short = type === "DEVELOPMENT" ? "dev" : "prod";
  return db.runtimeEnvironment.create({
    data: {
      id: generateCuid(),
      slug: short,
      type,
      apiKey: `tr_${short}_${token()}`,
      pkApiKey: `pk_${short}_${token()}`,
      shortcode: token(),
      maximumConcurrencyLimit: overrides.maximumConcurrencyLimit ?? 5,
      projectId: project.id,
      organizationId,
    },
  });
}

/** A worker with one task per slug, each on its own queue. */
export async function seedWorker(
  db: PrismaClient,
  env: { id: string; projectId: string },
  version: string,
  slugs: string[],
  createdAt = new Date()
) {
  const worker = await db.backgroundWorker.create({
    data: {
      id: generateCuid(),
      friendlyId: `worker_${generateCuid()}`,
      version,
      runtimeEnvironmentId: env.id,
      projectId: env.projectId,
      createdAt,
    },
  });
  for (const slug of slugs) {
    const queue = await db.taskQueue.upsert({
      where: { runtimeEnvironmentId_name: { runtimeEnvironmentId: env.id, name: `task/${slug}` } },
      update: {},
      create: {
        id: generateCuid(),
        friendlyId: `queue_${generateCuid()}`,
        name: `task/${slug}`,
        concurrencyLimit: 3,
        runtimeEnvironmentId: env.id,
        projectId: env.projectId,
      },
    });
    await db.backgroundWorkerTask.create({
      data: {
        id: generateCuid(),
        slug,
        workerId: worker.id,
        runtimeEnvironmentId: env.id,
        projectId: env.projectId,
        queueId: queue.id,
        retryConfig: { maxAttempts: 3 },
      },
    });
  }
  return worker;
}
