import type { LoaderFunctionArgs } from "@remix-run/node";
import { NotFoundError, UnauthorizedError } from "@runplane/core";
import { findUserByPersonalAccessToken, type PatUser } from "~/models/personalAccessTokens.server";
import { withErrorResponse } from "~/services/httpErrors.server";
import type { Runtime } from "~/services/runtime.server";

/**
 * Routes the trigger.dev CLI calls with a personal access token (`tr_pat_…`) rather than an
 * environment key: whoami and the project/environment lookup. A missing, unknown or revoked token → 401.
 */
export type PatHandlerArgs = { request: Request; params: Record<string, string | undefined>; user: PatUser; runtime: Runtime };

export async function authenticatePat(runtime: Pick<Runtime, "prisma">, request: Request): Promise<PatUser> {
  const match = /^Bearer\s+(\S+)$/i.exec(request.headers.get("authorization")?.trim() ?? "");
  if (!match?.[1]) throw new UnauthorizedError("Send `Authorization: Bearer <personal access token>`");
  const user = await findUserByPersonalAccessToken(runtime.prisma, match[1]);
  if (!user) throw new UnauthorizedError("Invalid or revoked personal access token");
  return user;
}

export function patLoader(handler: (args: PatHandlerArgs) => Promise<Response>) {
  return ({ request, params, context }: LoaderFunctionArgs) =>
    withErrorResponse(async () => {
      const user = await authenticatePat(context.runtime, request);
      return handler({ request, params, user, runtime: context.runtime });
    }, context.runtime.logger);
}

/** A project of one of the user's organisations, by its `externalRef`; another org's (or unknown) → 404. */
export async function requireMemberProject(runtime: Pick<Runtime, "prisma">, user: PatUser, externalRef: string | undefined) {
  const project = externalRef
    ? await runtime.prisma.project.findFirst({
        where: { externalRef, organization: { members: { some: { userId: user.id } } } },
        select: { id: true, name: true, slug: true, externalRef: true, organization: { select: { slug: true, title: true } } },
      })
    : null;
  if (!project) throw new NotFoundError("Project not found");
  return project;
}
