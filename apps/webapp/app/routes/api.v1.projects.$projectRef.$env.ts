import { NotFoundError } from "@runplane/core";
import { json } from "~/services/apiRoute.server";
import { patLoader, requireMemberProject } from "~/services/patAuth.server";

/** The CLI names environments dev / staging / prod; Runplane's slugs are dev / stg / prod. */
const SLUGS: Record<string, string> = { dev: "dev", staging: "stg", stg: "stg", prod: "prod" };

/** GET /api/v1/projects/:ref/:env: the environment's secret key for the CLI (personal access token). */
export const loader = patLoader(async ({ params, user, runtime }) => {
  const project = await requireMemberProject(runtime, user, params.projectRef);
  const slug = SLUGS[params.env ?? ""];
  const environment = slug
    ? await runtime.prisma.runtimeEnvironment.findFirst({ where: { projectId: project.id, slug, archivedAt: null }, select: { apiKey: true } })
    : null;
  if (!environment) throw new NotFoundError(`Environment "${params.env}" not found`);
  return json({ apiKey: environment.apiKey, name: project.name, apiUrl: runtime.env.APP_ORIGIN, projectId: project.id });
});
