import type { Runtime } from "~/services/runtime.server";
import { DEFAULT_ORG_SLUG } from "~/services/bootstrap.server";

export type HomePage = {
  organization: string | null;
  projects: { name: string; externalRef: string }[];
  splitEnabled: boolean;
};

/** The landing page: the default organisation and its projects (no secrets). */
export async function presentHome(runtime: Pick<Runtime, "prisma" | "runOps">): Promise<HomePage> {
  const org = await runtime.prisma.organization.findUnique({
    where: { slug: DEFAULT_ORG_SLUG },
    select: { title: true, projects: { select: { name: true, externalRef: true }, orderBy: { createdAt: "asc" } } },
  });
  return {
    organization: org?.title ?? null,
    projects: org?.projects ?? [],
    splitEnabled: runtime.runOps.splitEnabled,
  };
}
