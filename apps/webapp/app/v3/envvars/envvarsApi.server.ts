import { ForbiddenError, NotFoundError } from "@runplane/core";
import type { ApiAuthentication } from "~/services/apiAuth.server";
import { requireParam } from "~/services/apiRoute.server";

/**
 * `/api/v1/projects/{ref}/envvars/{slug}…`: the key's own project and environment only. Another
 * project's ref is a 404 (nothing about it is revealed); another environment's slug a 403.
 */
export function envvarsEnvironmentId(auth: ApiAuthentication, params: Record<string, string | undefined>): string {
  const slug = requireParam(params, "slug");
  const environment = auth.environment;
  requireOwnProject(auth, params);
  if (slug !== environment.slug) {
    throw new ForbiddenError(`This key belongs to the "${environment.slug}" environment; it cannot manage "${slug}"`);
  }
  return environment.id;
}

/** The key's project must be the one in the path: another project's ref is a 404. */
export function requireOwnProject(auth: ApiAuthentication, params: Record<string, string | undefined>): void {
  const projectRef = requireParam(params, "projectRef");
  if (projectRef !== auth.environment.project.externalRef) throw new NotFoundError(`Project ${projectRef} not found`);
}
