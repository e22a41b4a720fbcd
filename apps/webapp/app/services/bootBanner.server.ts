import type { BootstrapResult } from "~/services/bootstrap.server";

/**
 * The human-readable block printed once the server listens: where the dashboard is and the keys an
 * SDK or worker needs. Plain text on purpose (it is read by people, not log pipelines).
 */
export function formatBootBanner(input: { appOrigin: string; bootstrap: BootstrapResult; splitEnabled: boolean }): string {
  const { bootstrap } = input;
  const dev = bootstrap.environments.development;
  const prod = bootstrap.environments.production;
  return [
    "",
    "  Runplane is ready",
    `  Dashboard:        ${input.appOrigin}`,
    `  API URL:          ${input.appOrigin}`,
    `  Organisation:     ${bootstrap.organization.slug}`,
    `  Project:          ${bootstrap.project.slug} (${bootstrap.project.externalRef})`,
    `  Admins:           ${bootstrap.adminEmails.join(", ")}`,
    `  Run-ops split:    ${input.splitEnabled ? "on" : "off"}`,
    "  Development      secret key " + dev.apiKey,
    "                   public key " + dev.pkApiKey,
    "  Production       secret key " + prod.apiKey,
    "                   public key " + prod.pkApiKey,
    ...(bootstrap.adminPat ? [`  CLI token (PAT)  ${bootstrap.adminPat.token} (${bootstrap.adminPat.email})`] : []),
    "",
  ].join("\n");
}
