/** Dashboard URLs, built in one place. Slugs are URL-safe by construction; ids are encoded anyway. */
export type ScopeSlugs = {
  organization: { slug: string };
  project: { slug: string };
  environment: { slug: string };
};

export function envPath(scope: ScopeSlugs): string {
  return `/orgs/${encodeURIComponent(scope.organization.slug)}/projects/${encodeURIComponent(scope.project.slug)}/env/${encodeURIComponent(scope.environment.slug)}`;
}

export function runPath(scope: ScopeSlugs, runFriendlyId: string): string {
  return `${envPath(scope)}/runs/${encodeURIComponent(runFriendlyId)}`;
}

export function batchPath(scope: ScopeSlugs, batchFriendlyId: string): string {
  return `${envPath(scope)}/batches/${encodeURIComponent(batchFriendlyId)}`;
}

export function adminRunPath(runId: string): string {
  return `/admin/runs/${encodeURIComponent(runId)}`;
}
