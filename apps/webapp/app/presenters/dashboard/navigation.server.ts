import type { EnvironmentScope } from "~/services/dashboardAuth.server";
import type { Runtime } from "~/services/runtime.server";
import { environmentLabel } from "./format";
import { envPath } from "./paths";

export type NavEnvironment = { slug: string; type: string; label: string; href: string; current: boolean };
export type NavProject = { slug: string; name: string; current: boolean; environments: NavEnvironment[] };
export type NavOrganization = { slug: string; title: string; current: boolean; projects: NavProject[] };

export type Navigation = {
  organizations: NavOrganization[];
  current: { organization: string; project: string; environment: NavEnvironment; base: string } | null;
};

const ENV_ORDER = ["DEVELOPMENT", "STAGING", "PREVIEW", "PRODUCTION"];

/** Every environment the user can open (their organisations only), for the switcher. */
export async function loadNavigation(
  runtime: Pick<Runtime, "prisma">,
  userId: string,
  scope?: Pick<EnvironmentScope, "organization" | "project" | "environment">
): Promise<Navigation> {
  const orgs = await runtime.prisma.organization.findMany({
    where: { members: { some: { userId } } },
    orderBy: { createdAt: "asc" },
    select: {
      slug: true,
      title: true,
      projects: {
        orderBy: { createdAt: "asc" },
        select: {
          slug: true,
          name: true,
          environments: { where: { archivedAt: null }, select: { slug: true, type: true } },
        },
      },
    },
  });
  let current: Navigation["current"] = null;
  const organizations = orgs.map((org): NavOrganization => {
    const orgCurrent = org.slug === scope?.organization.slug;
    return {
      slug: org.slug,
      title: org.title,
      current: orgCurrent,
      projects: org.projects.map((project): NavProject => {
        const projectCurrent = orgCurrent && project.slug === scope?.project.slug;
        const environments = [...project.environments]
          .sort((a, b) => ENV_ORDER.indexOf(a.type) - ENV_ORDER.indexOf(b.type) || a.slug.localeCompare(b.slug))
          .map((env): NavEnvironment => {
            const envCurrent = projectCurrent && env.slug === scope?.environment.slug;
            const slugs = { organization: org, project, environment: env };
            const item = {
              slug: env.slug,
              type: env.type,
              label: environmentLabel(env.type),
              href: `${envPath(slugs)}/runs`,
              current: envCurrent,
            };
            if (envCurrent) current = { organization: org.title, project: project.name, environment: item, base: envPath(slugs) };
            return item;
          });
        return { slug: project.slug, name: project.name, current: projectCurrent, environments };
      }),
    };
  });
  return { organizations, current };
}

/** Where to send a logged-in user who asked for `/` or `/orgs/:org`: the first environment they can see (dev first). */
export function firstEnvironmentHref(navigation: Navigation, orgSlug?: string): string | null {
  for (const org of navigation.organizations) {
    if (orgSlug && org.slug !== orgSlug) continue;
    for (const project of org.projects) {
      const env = project.environments[0];
      if (env) return env.href;
    }
  }
  return null;
}
