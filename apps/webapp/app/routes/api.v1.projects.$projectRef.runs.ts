import { NotFoundError, ValidationError } from "@runplane/core";
import { parseListRunsQuery, queryErrorBody } from "@runplane/core/schemas";
import { apiLoader, json, requireParam } from "~/services/apiRoute.server";
import { withResponseFields } from "~/services/httpErrors.server";
import { listRunsForApi } from "~/v3/runs/listRunsForApi.server";

/** Environment slugs the SDK may send in `filter[env]`, and what they are called here. */
const SLUG_ALIASES: Record<string, string[]> = { dev: ["dev"], development: ["dev"], prod: ["prod"], production: ["prod"], staging: ["staging", "stg"], stg: ["staging", "stg"], preview: ["preview"] };

/** GET /api/v1/projects/{ref}/runs: runs of the key's project across its environments (`filter[env]` narrows). Secret key only. */
export const loader = apiLoader({}, async ({ request, params, auth, runtime }) => {
  const projectRef = requireParam(params, "projectRef");
  const { environment } = auth;
  if (environment.project.externalRef !== projectRef) throw new NotFoundError("Project not found");
  const query = parseListRunsQuery(new URL(request.url).searchParams);
  if (!query.success) {
    const { error, ...rest } = queryErrorBody(query.error);
    throw withResponseFields(new ValidationError(error), { body: rest });
  }
  const slugs = query.data.envSlugs?.flatMap((slug) => SLUG_ALIASES[slug.toLowerCase()] ?? [slug]);
  const environments = await runtime.prisma.runtimeEnvironment.findMany({
    where: { projectId: environment.projectId, archivedAt: null, ...(slugs ? { slug: { in: slugs } } : {}) },
    select: { id: true, slug: true },
  });
  return json(await listRunsForApi(environments, query.data));
});
