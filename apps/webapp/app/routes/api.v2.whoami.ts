import { json } from "~/services/apiRoute.server";
import { patLoader, requireMemberProject } from "~/services/patAuth.server";

/** GET /api/v2/whoami[?projectRef=…]: the CLI's identity check (personal access token). */
export const loader = patLoader(async ({ request, user, runtime }) => {
  const origin = runtime.env.APP_ORIGIN;
  const projectRef = new URL(request.url).searchParams.get("projectRef");
  const body: Record<string, unknown> = { userId: user.id, email: cliDisplayEmail(user.email), dashboardUrl: origin };
  if (projectRef) {
    const project = await requireMemberProject(runtime, user, projectRef);
    body.project = { name: project.name, url: `${origin}/orgs/${project.organization.slug}/projects/${project.slug}`, orgTitle: project.organization.title };
  }
  return json(body);
});

/**
 * The CLI rejects an address whose domain has no dot, such as the default admin `admin@localhost`;
 * it only displays the address, so such a domain is shown with `.local` appended.
 */
function cliDisplayEmail(email: string): string {
  const domain = email.slice(email.lastIndexOf("@") + 1);
  return domain.includes(".") ? email : `${email}.local`;
}
