import { NotFoundError, generateCuid } from "@runplane/core";
import { describe, expect, onTestFinished } from "vitest";
import { PrismaControlPlaneResolver } from "../src/resolver/index.js";
import { postgresTest } from "./fixtures.js";
import { countingClient, seedEnvironment, seedOrganization, seedWorker } from "./seed.js";

/** A resolver over a query-counting client, with a clock the test moves by hand. */
async function setup(databaseUrl: string, cache: { ttlMs?: number; maxEntries?: number } = {}) {
  const { client, queries } = countingClient(databaseUrl);
  let now = 1_000_000;
  const resolver = new PrismaControlPlaneResolver({ client, cache: { ...cache, now: () => now } });
  onTestFinished(() => client.$disconnect());
  return {
    db: client,
    resolver,
    queries,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe("PrismaControlPlaneResolver environments", () => {
  postgresTest("a cached environment is served without a query, even after the row changed", async ({ databaseUrl }) => {
    const t = await setup(databaseUrl);
    const org = await seedOrganization(t.db, { mollifier: true });
    const env = await seedEnvironment(t.db, org.id, { maximumConcurrencyLimit: 7 });

    const first = await t.resolver.resolveAuthenticatedEnv(env.id);
    expect(first).toMatchObject({
      id: env.id,
      type: "DEVELOPMENT",
      maximumConcurrencyLimit: 7,
      apiKey: env.apiKey,
      project: { id: env.projectId },
      organization: { id: org.id, featureFlags: { mollifier: true } },
    });

    await t.db.runtimeEnvironment.update({ where: { id: env.id }, data: { maximumConcurrencyLimit: 99 } });
    const before = t.queries();
    const second = await t.resolver.resolveEnv(env.id);
    expect(t.queries()).toBe(before);
    expect(second?.maximumConcurrencyLimit).toBe(7);
    // resolveEnv is the narrow shape: no keys in it.
    expect(second).not.toHaveProperty("apiKey");
  });

  postgresTest("an unknown environment resolves to null and assertEnvExists throws NotFoundError", async ({ databaseUrl }) => {
    const t = await setup(databaseUrl);
    expect(await t.resolver.resolveEnv("no_such_env")).toBeNull();
    expect(await t.resolver.resolveEnvByApiKey("tr_dev_nope")).toBeNull();
    await expect(t.resolver.assertEnvExists("no_such_env")).rejects.toBeInstanceOf(NotFoundError);
  });

  postgresTest("an absence is cached: a row created after a miss is unseen until invalidation", async ({ databaseUrl }) => {
    const t = await setup(databaseUrl);
    const org = await seedOrganization(t.db);
    const id = generateCuid();
    expect(await t.resolver.resolveEnv(id)).toBeNull();

    const project = await t.db.project.create({
      data: { id: generateCuid(), slug: "late", name: "Late", externalRef: `proj_${id}`, organizationId: org.id },
    });
    await t.db.runtimeEnvironment.create({
      data: { id, slug: "dev", type: "DEVELOPMENT", apiKey: `tr_${id}`, pkApiKey: `pk_${id}`, shortcode: id, projectId: project.id, organizationId: org.id },
    });
    const before = t.queries();
    expect(await t.resolver.resolveEnv(id)).toBeNull();
    expect(t.queries()).toBe(before);

    t.resolver.invalidateEnv(id);
    expect((await t.resolver.resolveEnv(id))?.id).toBe(id);
  });

  postgresTest("entries expire after the TTL (30 s by default)", async ({ databaseUrl }) => {
    const t = await setup(databaseUrl);
    const org = await seedOrganization(t.db);
    const env = await seedEnvironment(t.db, org.id);
    const absentKey = `tr_dev_${generateCuid()}`;

    await t.resolver.resolveEnv(env.id);
    expect(await t.resolver.resolveEnvByApiKey(absentKey)).toBeNull();
    await t.db.runtimeEnvironment.update({ where: { id: env.id }, data: { paused: true, apiKey: absentKey } });

    t.advance(29_999);
    expect((await t.resolver.resolveEnv(env.id))?.paused).toBe(false);
    expect(await t.resolver.resolveEnvByApiKey(absentKey)).toBeNull();

    t.advance(2);
    expect((await t.resolver.resolveEnv(env.id))?.paused).toBe(true);
    expect((await t.resolver.resolveEnvByApiKey(absentKey))?.id).toBe(env.id);
  });

  postgresTest("resolveEnvByApiKey accepts the secret and the public key; rotation is visible after invalidateEnv", async ({ databaseUrl }) => {
    const t = await setup(databaseUrl);
    const org = await seedOrganization(t.db);
    const env = await seedEnvironment(t.db, org.id);

    expect((await t.resolver.resolveEnvByApiKey(env.apiKey))?.id).toBe(env.id);
    expect((await t.resolver.resolveEnvByApiKey(env.pkApiKey))?.id).toBe(env.id);
    // The key lookup also filled the by-id entry.
    const before = t.queries();
    expect((await t.resolver.resolveEnv(env.id))?.id).toBe(env.id);
    expect(t.queries()).toBe(before);

    const rotated = `tr_dev_${generateCuid()}`;
    await t.db.runtimeEnvironment.update({ where: { id: env.id }, data: { apiKey: rotated } });
    expect((await t.resolver.resolveEnvByApiKey(env.apiKey))?.id).toBe(env.id); // stale until told
    t.resolver.invalidateEnv(env.id);
    expect(await t.resolver.resolveEnvByApiKey(env.apiKey)).toBeNull();
    expect((await t.resolver.resolveEnvByApiKey(rotated))?.apiKey).toBe(rotated);
  });

  postgresTest("invalidateEnv drops only that environment", async ({ databaseUrl }) => {
    const t = await setup(databaseUrl);
    const org = await seedOrganization(t.db);
    const a = await seedEnvironment(t.db, org.id);
    const b = await seedEnvironment(t.db, org.id);
    await t.resolver.resolveEnv(a.id);
    await t.resolver.resolveEnv(b.id);
    await t.db.runtimeEnvironment.updateMany({ data: { paused: true } });

    t.resolver.invalidateEnv(a.id);
    expect((await t.resolver.resolveEnv(a.id))?.paused).toBe(true);
    expect((await t.resolver.resolveEnv(b.id))?.paused).toBe(false);
  });

  postgresTest("invalidateOrg drops every cached environment of that org (by id and by key), not other orgs'", async ({ databaseUrl }) => {
    const t = await setup(databaseUrl);
    const orgA = await seedOrganization(t.db, { plan: "free" });
    const orgB = await seedOrganization(t.db, { plan: "free" });
    const a1 = await seedEnvironment(t.db, orgA.id);
    const a2 = await seedEnvironment(t.db, orgA.id, { type: "PRODUCTION" });
    const b1 = await seedEnvironment(t.db, orgB.id);
    await t.resolver.resolveAuthenticatedEnv(a1.id);
    await t.resolver.resolveEnvByApiKey(a2.apiKey);
    await t.resolver.resolveAuthenticatedEnv(b1.id);
    await t.db.organization.updateMany({ data: { featureFlags: { plan: "pro" } } });

    t.resolver.invalidateOrg(orgA.id);
    expect((await t.resolver.resolveAuthenticatedEnv(a1.id))?.organization.featureFlags).toEqual({ plan: "pro" });
    expect((await t.resolver.resolveEnvByApiKey(a2.apiKey))?.organization.featureFlags).toEqual({ plan: "pro" });
    expect((await t.resolver.resolveAuthenticatedEnv(b1.id))?.organization.featureFlags).toEqual({ plan: "free" });
  });

  postgresTest("the cache holds at most maxEntries; the least recently used entry goes first", async ({ databaseUrl }) => {
    const t = await setup(databaseUrl, { maxEntries: 2 });
    const org = await seedOrganization(t.db);
    const [a, b, c] = [await seedEnvironment(t.db, org.id), await seedEnvironment(t.db, org.id), await seedEnvironment(t.db, org.id)];

    await t.resolver.resolveEnv(a.id);
    await t.resolver.resolveEnv(b.id);
    await t.resolver.resolveEnv(a.id); // a is now the most recently used
    await t.resolver.resolveEnv(c.id); // evicts b
    expect(t.resolver.cacheStats().size).toBe(2);

    let before = t.queries();
    await t.resolver.resolveEnv(a.id);
    await t.resolver.resolveEnv(c.id);
    expect(t.queries()).toBe(before);
    before = t.queries();
    await t.resolver.resolveEnv(b.id);
    expect(t.queries()).toBeGreaterThan(before);
    expect(t.resolver.cacheStats().size).toBe(2);
  });

  postgresTest("concurrent misses for one environment share a single query", async ({ databaseUrl }) => {
    const t = await setup(databaseUrl);
    const org = await seedOrganization(t.db);
    const env = await seedEnvironment(t.db, org.id);
    const reference = await seedEnvironment(t.db, org.id);
    let before = t.queries();
    await t.resolver.resolveEnv(reference.id);
    const oneLoad = t.queries() - before; // Prisma may split a load with relations into several statements

    before = t.queries();
    const results = await Promise.all(Array.from({ length: 10 }, () => t.resolver.resolveEnv(env.id)));
    expect(results.every((r) => r?.id === env.id)).toBe(true);
    expect(t.queries() - before).toBe(oneLoad);
  });
});

postgresTest("a load that overlapped an invalidation is returned but not cached", async ({ databaseUrl }) => {
  const t = await setup(databaseUrl);
  const org = await seedOrganization(t.db);
  const env = await seedEnvironment(t.db, org.id);

  // Hold the first environment read until the test lets it go, as a slow replica would.
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const delegate = t.db.runtimeEnvironment;
  const slowClient = new Proxy(t.db, {
    get(target, prop, receiver) {
      if (prop !== "runtimeEnvironment") return Reflect.get(target, prop, receiver);
      return {
        findUnique: async (args: Parameters<typeof delegate.findUnique>[0]) => {
          const row = await delegate.findUnique(args);
          await gate;
          return row;
        },
      };
    },
  });
  const resolver = new PrismaControlPlaneResolver({ client: slowClient });

  const stale = resolver.resolveEnv(env.id);
  await new Promise((resolve) => setTimeout(resolve, 50));
  await t.db.runtimeEnvironment.update({ where: { id: env.id }, data: { paused: true } });
  resolver.invalidateEnv(env.id);
  release();

  expect((await stale)?.paused).toBe(false);
  expect((await resolver.resolveEnv(env.id))?.paused).toBe(true);
});

describe("PrismaControlPlaneResolver workers", () => {
  postgresTest("with no pin, resolves the newest worker with its tasks and their queues, fresh on every call", async ({ databaseUrl }) => {
    const t = await setup(databaseUrl);
    const org = await seedOrganization(t.db);
    const env = await seedEnvironment(t.db, org.id);
    expect(await t.resolver.resolveWorkerVersion(env.id)).toBeNull();

    await seedWorker(t.db, env, "20261123.1", ["email"], new Date("2026-11-23T10:00:00Z"));
    const v2 = await seedWorker(t.db, env, "20261123.2", ["email", "resize"], new Date("2026-11-23T11:00:00Z"));
    const latest = await t.resolver.resolveWorkerVersion(env.id);
    expect(latest?.worker).toMatchObject({ id: v2.id, version: "20261123.2", runtimeEnvironmentId: env.id });
    expect(latest?.tasks.map((task) => task.slug)).toEqual(["email", "resize"]);
    expect(latest?.tasks[1]).toMatchObject({
      retryConfig: { maxAttempts: 3 },
      queue: { name: "task/resize", concurrencyLimit: 3, paused: false },
    });

    // A deploy registered elsewhere is dispatched on the very next call.
    const v3 = await seedWorker(t.db, env, "20261123.3", ["email"], new Date("2026-11-23T12:00:00Z"));
    expect((await t.resolver.resolveWorkerVersion(env.id))?.worker.id).toBe(v3.id);
  });

  postgresTest("a pinned version or worker id is cached until invalidateWorkers", async ({ databaseUrl }) => {
    const t = await setup(databaseUrl);
    const org = await seedOrganization(t.db);
    const env = await seedEnvironment(t.db, org.id);
    const other = await seedEnvironment(t.db, org.id);
    const v1 = await seedWorker(t.db, env, "1", ["email"], new Date("2026-01-01T00:00:00Z"));
    await seedWorker(t.db, env, "2", ["email"], new Date("2026-01-02T00:00:00Z"));

    expect((await t.resolver.resolveWorkerVersion(env.id, { version: "1" }))?.worker.id).toBe(v1.id);
    expect((await t.resolver.resolveWorkerVersion(env.id, { workerId: v1.id }))?.worker.version).toBe("1");
    expect(await t.resolver.resolveWorkerVersion(other.id, { workerId: v1.id })).toBeNull();
    expect(await t.resolver.resolveWorkerVersion(env.id, { version: "1", workerId: "someone_else" })).toBeNull();

    await t.db.backgroundWorker.update({ where: { id: v1.id }, data: { sdkVersion: "4.0.1" } });
    const before = t.queries();
    expect((await t.resolver.resolveWorkerVersion(env.id, { version: "1" }))?.worker.sdkVersion).toBe("unknown");
    expect(t.queries()).toBe(before);

    t.resolver.invalidateWorkers(env.id);
    expect((await t.resolver.resolveWorkerVersion(env.id, { version: "1" }))?.worker.sdkVersion).toBe("4.0.1");
  });
});
