import { ControlPlanePrisma, RuntimeEnvironmentType, type ControlPlaneClient } from "@internal/database";
import { ConfigurationError, generateCuid } from "@runplane/core";
import type { Env } from "~/env.server";
import {
  generateProjectRef,
  generatePublicKey,
  generateSecretKey,
  generateShortcode,
  type EnvironmentKeyKind,
} from "~/models/apiKeys.server";
import { pinPersonalAccessToken } from "~/models/personalAccessTokens.server";

/**
 * First-boot setup, safe to run on every boot and from several processes at once (one advisory
 * lock, everything upserted): admin users from ADMIN_EMAILS, organisation `default` with those
 * admins as members, project `default`, and its DEVELOPMENT and PRODUCTION environments with keys.
 * BOOTSTRAP_DEV_SECRET_KEY / BOOTSTRAP_PROD_SECRET_KEY pin the secret keys, also on existing envs.
 * BOOTSTRAP_ADMIN_PAT pins a personal access token of the first admin (for the trigger.dev CLI).
 */
export type BootstrapEnv = Pick<Env, "ADMIN_EMAILS" | "BOOTSTRAP_DEV_SECRET_KEY" | "BOOTSTRAP_PROD_SECRET_KEY" | "BOOTSTRAP_ADMIN_PAT"> &
  Partial<Pick<Env, "DEFAULT_ENV_CONCURRENCY_LIMIT">>;

export type BootstrappedEnvironment = {
  id: string;
  slug: string;
  type: RuntimeEnvironmentType;
  apiKey: string;
  pkApiKey: string;
};

export type BootstrapResult = {
  adminEmails: string[];
  organization: { id: string; slug: string; title: string };
  project: { id: string; slug: string; name: string; externalRef: string };
  environments: { development: BootstrappedEnvironment; production: BootstrappedEnvironment };
  /** BOOTSTRAP_ADMIN_PAT and the admin it belongs to, when set. */
  adminPat?: { email: string; token: string };
};

export const DEFAULT_ORG_SLUG = "default";
export const DEFAULT_PROJECT_SLUG = "default";
const BOOTSTRAP_LOCK_KEY = 72_707_371;

type Tx = ControlPlanePrisma.TransactionClient;

const ENVIRONMENTS: { key: "development" | "production"; slug: string; type: RuntimeEnvironmentType; kind: EnvironmentKeyKind }[] = [
  { key: "development", slug: "dev", type: RuntimeEnvironmentType.DEVELOPMENT, kind: "dev" },
  { key: "production", slug: "prod", type: RuntimeEnvironmentType.PRODUCTION, kind: "prod" },
];

export async function bootstrapInstance(prisma: ControlPlaneClient, env: BootstrapEnv): Promise<BootstrapResult> {
  return prisma.$transaction(
    async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${BOOTSTRAP_LOCK_KEY})`;
      const admins = await upsertAdmins(tx, env.ADMIN_EMAILS);
      const organization = await tx.organization.upsert({
        where: { slug: DEFAULT_ORG_SLUG },
        create: { id: generateCuid(), slug: DEFAULT_ORG_SLUG, title: "Default" },
        update: {},
        select: { id: true, slug: true, title: true },
      });
      for (const admin of admins) {
        await tx.orgMember.upsert({
          where: { organizationId_userId: { organizationId: organization.id, userId: admin.id } },
          create: { id: generateCuid(), organizationId: organization.id, userId: admin.id, role: "ADMIN" },
          update: {},
        });
      }
      const project = await tx.project.upsert({
        where: { organizationId_slug: { organizationId: organization.id, slug: DEFAULT_PROJECT_SLUG } },
        create: {
          id: generateCuid(),
          slug: DEFAULT_PROJECT_SLUG,
          name: "Default",
          externalRef: generateProjectRef(),
          organizationId: organization.id,
        },
        update: {},
        select: { id: true, slug: true, name: true, externalRef: true },
      });
      const fixedKeys = { dev: env.BOOTSTRAP_DEV_SECRET_KEY, prod: env.BOOTSTRAP_PROD_SECRET_KEY };
      const environments = {} as BootstrapResult["environments"];
      for (const spec of ENVIRONMENTS) {
        environments[spec.key] = await upsertEnvironment(tx, {
          ...spec,
          organizationId: organization.id,
          projectId: project.id,
          fixedSecretKey: fixedKeys[spec.kind],
          concurrencyLimit: env.DEFAULT_ENV_CONCURRENCY_LIMIT,
        });
      }
      const firstAdmin = admins[0];
      let adminPat: BootstrapResult["adminPat"];
      if (env.BOOTSTRAP_ADMIN_PAT && firstAdmin) {
        await pinPersonalAccessToken(tx, { userId: firstAdmin.id, name: "BOOTSTRAP_ADMIN_PAT", token: env.BOOTSTRAP_ADMIN_PAT });
        adminPat = { email: firstAdmin.email, token: env.BOOTSTRAP_ADMIN_PAT };
      }
      return { adminEmails: admins.map((a) => a.email), organization, project, environments, ...(adminPat ? { adminPat } : {}) };
    },
    { timeout: 30_000, maxWait: 30_000 }
  );
}

async function upsertAdmins(tx: Tx, emails: string[]) {
  const admins: { id: string; email: string }[] = [];
  for (const email of emails) {
    admins.push(
      await tx.user.upsert({
        where: { email },
        create: { id: generateCuid(), email, admin: true },
        update: { admin: true },
        select: { id: true, email: true },
      })
    );
  }
  return admins;
}

async function upsertEnvironment(
  tx: Tx,
  spec: {
    slug: string;
    type: RuntimeEnvironmentType;
    kind: EnvironmentKeyKind;
    organizationId: string;
    projectId: string;
    fixedSecretKey?: string;
    /** A new environment's maximumConcurrencyLimit (the schema default when absent). */
    concurrencyLimit?: number;
  }
): Promise<BootstrappedEnvironment> {
  const select = { id: true, slug: true, type: true, apiKey: true, pkApiKey: true } as const;
  const existing = await tx.runtimeEnvironment.findUnique({
    where: { projectId_slug: { projectId: spec.projectId, slug: spec.slug } },
    select,
  });
  try {
    if (!existing) {
      return await tx.runtimeEnvironment.create({
        data: {
          id: generateCuid(),
          slug: spec.slug,
          type: spec.type,
          apiKey: spec.fixedSecretKey ?? generateSecretKey(spec.kind),
          pkApiKey: generatePublicKey(spec.kind),
          shortcode: generateShortcode(),
          projectId: spec.projectId,
          organizationId: spec.organizationId,
          ...(spec.concurrencyLimit !== undefined ? { maximumConcurrencyLimit: spec.concurrencyLimit } : {}),
        },
        select,
      });
    }
    if (spec.fixedSecretKey && existing.apiKey !== spec.fixedSecretKey) {
      return await tx.runtimeEnvironment.update({ where: { id: existing.id }, data: { apiKey: spec.fixedSecretKey }, select });
    }
    return existing;
  } catch (error) {
    if (error instanceof ControlPlanePrisma.PrismaClientKnownRequestError && error.code === "P2002" && spec.fixedSecretKey) {
      const variable = spec.kind === "dev" ? "BOOTSTRAP_DEV_SECRET_KEY" : "BOOTSTRAP_PROD_SECRET_KEY";
      throw new ConfigurationError("bootstrap_key_in_use", `${variable} is already the secret key of another environment`);
    }
    throw error;
  }
}
