import { createControlPlaneClient } from "@internal/database";
import { postgresTest } from "@internal/testcontainers";
import { expect } from "vitest";
import { parseEnv } from "~/env.server";
import { bootstrapInstance } from "~/services/bootstrap.server";

const REDIS_URL = "redis://127.0.0.1:6379";

async function withClient<T>(databaseUrl: string, fn: (prisma: ReturnType<typeof createControlPlaneClient>) => Promise<T>) {
  const prisma = createControlPlaneClient({ connectionString: databaseUrl, max: 4 });
  try {
    return await fn(prisma);
  } finally {
    await prisma.$disconnect();
  }
}

async function counts(prisma: ReturnType<typeof createControlPlaneClient>) {
  const [users, admins, orgs, members, projects, environments] = await Promise.all([
    prisma.user.count(),
    prisma.user.count({ where: { admin: true } }),
    prisma.organization.count(),
    prisma.orgMember.count(),
    prisma.project.count(),
    prisma.runtimeEnvironment.count(),
  ]);
  return { users, admins, orgs, members, projects, environments };
}

postgresTest("bootstrap twice creates one of each and returns the same keys", async ({ databaseUrl }) => {
  await withClient(databaseUrl, async (prisma) => {
    const env = parseEnv({ DATABASE_URL: databaseUrl, REDIS_URL });
    const first = await bootstrapInstance(prisma, env);
    const second = await bootstrapInstance(prisma, env);

    expect(await counts(prisma)).toEqual({ users: 1, admins: 1, orgs: 1, members: 1, projects: 1, environments: 2 });
    expect(second).toEqual(first);

    expect(first.adminEmails).toEqual(["admin@localhost"]);
    expect(first.organization.slug).toBe("default");
    expect(first.project.slug).toBe("default");
    expect(first.project.externalRef).toMatch(/^proj_[a-z]{20}$/);
    const { development, production } = first.environments;
    expect(development).toMatchObject({ type: "DEVELOPMENT", slug: "dev" });
    expect(production).toMatchObject({ type: "PRODUCTION", slug: "prod" });
    expect(development.apiKey).toMatch(/^tr_dev_[0-9a-zA-Z]{24}$/);
    expect(development.pkApiKey).toMatch(/^pk_dev_[0-9a-zA-Z]{24}$/);
    expect(production.apiKey).toMatch(/^tr_prod_[0-9a-zA-Z]{24}$/);
    expect(production.pkApiKey).toMatch(/^pk_prod_[0-9a-zA-Z]{24}$/);

    const admin = await prisma.user.findUniqueOrThrow({ where: { email: "admin@localhost" }, include: { orgs: true } });
    expect(admin.admin).toBe(true);
    expect(admin.orgs).toEqual([expect.objectContaining({ organizationId: first.organization.id, role: "ADMIN" })]);
  });
});

postgresTest("concurrent bootstraps (several processes booting) still create one of each", async ({ databaseUrl }) => {
  await withClient(databaseUrl, async (prisma) => {
    const env = parseEnv({ DATABASE_URL: databaseUrl, REDIS_URL, ADMIN_EMAILS: "a@example.com,b@example.com" });
    const results = await Promise.all([bootstrapInstance(prisma, env), bootstrapInstance(prisma, env), bootstrapInstance(prisma, env)]);
    expect(new Set(results.map((r) => r.environments.development.apiKey)).size).toBe(1);
    expect(await counts(prisma)).toEqual({ users: 2, admins: 2, orgs: 1, members: 2, projects: 1, environments: 2 });
  });
});

postgresTest("fixed secret keys are used on first boot and applied to existing environments", async ({ databaseUrl }) => {
  await withClient(databaseUrl, async (prisma) => {
    const generated = await bootstrapInstance(prisma, parseEnv({ DATABASE_URL: databaseUrl, REDIS_URL }));

    const devKey = "tr_dev_FixedDevKey0000000000001";
    const prodKey = "tr_prod_FixedProdKey000000000001";
    const fixed = await bootstrapInstance(
      prisma,
      parseEnv({ DATABASE_URL: databaseUrl, REDIS_URL, BOOTSTRAP_DEV_SECRET_KEY: devKey, BOOTSTRAP_PROD_SECRET_KEY: prodKey })
    );
    expect(fixed.environments.development.apiKey).toBe(devKey);
    expect(fixed.environments.production.apiKey).toBe(prodKey);
    // Same environments, only the secret keys changed; public keys are kept.
    expect(fixed.environments.development.id).toBe(generated.environments.development.id);
    expect(fixed.environments.development.pkApiKey).toBe(generated.environments.development.pkApiKey);
    const stored = await prisma.runtimeEnvironment.findMany({ select: { apiKey: true }, orderBy: { slug: "asc" } });
    expect(stored.map((e) => e.apiKey)).toEqual([devKey, prodKey]);

    // Unsetting the variables later keeps the keys that are in place.
    const again = await bootstrapInstance(prisma, parseEnv({ DATABASE_URL: databaseUrl, REDIS_URL }));
    expect(again.environments.development.apiKey).toBe(devKey);
  });
});

postgresTest("an existing user listed in ADMIN_EMAILS becomes an admin", async ({ databaseUrl }) => {
  await withClient(databaseUrl, async (prisma) => {
    await prisma.user.create({ data: { id: "user_existing", email: "ops@example.com", admin: false } });
    await bootstrapInstance(prisma, parseEnv({ DATABASE_URL: databaseUrl, REDIS_URL, ADMIN_EMAILS: "ops@example.com" }));
    const user = await prisma.user.findUniqueOrThrow({ where: { email: "ops@example.com" } });
    expect(user).toMatchObject({ id: "user_existing", admin: true });
    expect(await prisma.user.count()).toBe(1);
  });
});
