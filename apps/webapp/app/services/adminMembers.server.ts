import { ControlPlanePrisma } from "@internal/database";
import { generateCuid, NotFoundError, ValidationError } from "@runplane/core";
import { LoginEmailSchema } from "~/services/dashboardAuth.server";
import type { Runtime } from "~/services/runtime.server";

/**
 * Organisation membership, changed by admins from /admin/orgs/:org. Adding an email that has no
 * account yet creates the account (it can then log in with a magic link).
 */
export async function addOrganizationMember(runtime: Pick<Runtime, "prisma" | "env">, orgSlug: string, rawEmail: unknown): Promise<{ email: string }> {
  const parsed = LoginEmailSchema.safeParse(rawEmail);
  if (!parsed.success) throw new ValidationError(parsed.error.issues[0]?.message ?? "Enter a valid email address");
  const email = parsed.data;
  const org = await runtime.prisma.organization.findUnique({ where: { slug: orgSlug }, select: { id: true } });
  if (!org) throw new NotFoundError("Organisation not found");
  const isAdmin = runtime.env.ADMIN_EMAILS.includes(email);
  const user = await runtime.prisma.user.upsert({
    where: { email },
    create: { id: generateCuid(), email, admin: isAdmin },
    update: {},
    select: { id: true },
  });
  try {
    await runtime.prisma.orgMember.create({ data: { id: generateCuid(), organizationId: org.id, userId: user.id } });
  } catch (error) {
    if (!(error instanceof ControlPlanePrisma.PrismaClientKnownRequestError && error.code === "P2002")) throw error;
  }
  return { email };
}

export async function removeOrganizationMember(runtime: Pick<Runtime, "prisma">, orgSlug: string, userId: string): Promise<void> {
  const org = await runtime.prisma.organization.findUnique({ where: { slug: orgSlug }, select: { id: true } });
  if (!org) throw new NotFoundError("Organisation not found");
  await runtime.prisma.orgMember.deleteMany({ where: { organizationId: org.id, userId } });
}
