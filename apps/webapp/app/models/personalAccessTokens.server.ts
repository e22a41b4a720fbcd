import type { ControlPlaneClient } from "@internal/database";
import { generateCuid } from "@runplane/core";
import { randomString } from "~/models/apiKeys.server";
import { hashToken } from "~/services/session.server";

/**
 * Personal access tokens (`tr_pat_` + 40 letters or digits): a user's credential for the trigger.dev
 * CLI. Only the SHA-256 is stored, so the token is shown once, at creation.
 */
export const PAT_PATTERN = /^tr_pat_[0-9A-Za-z]{40}$/;

export type PersonalAccessTokenSummary = {
  id: string;
  name: string;
  obfuscated: string;
  createdAt: Date;
  lastAccessedAt: Date | null;
};

export type PatUser = { id: string; email: string; name: string | null; admin: boolean };

export function generatePersonalAccessToken(): string {
  return `tr_pat_${randomString(40)}`;
}

function obfuscate(token: string): string {
  return `${token.slice(0, 11)}…${token.slice(-4)}`;
}

export async function createPersonalAccessToken(
  prisma: ControlPlaneClient,
  input: { userId: string; name: string; token?: string }
): Promise<{ token: string; summary: PersonalAccessTokenSummary }> {
  const token = input.token ?? generatePersonalAccessToken();
  const row = await prisma.personalAccessToken.create({
    data: { id: generateCuid(), name: input.name, userId: input.userId, tokenHash: hashToken(token), obfuscated: obfuscate(token) },
    select: { id: true, name: true, obfuscated: true, createdAt: true, lastAccessedAt: true },
  });
  return { token, summary: row };
}

/** Pins `token` for the user (BOOTSTRAP_ADMIN_PAT): created once, un-revoked if it was revoked. */
export async function pinPersonalAccessToken(prisma: Pick<ControlPlaneClient, "personalAccessToken">, input: { userId: string; name: string; token: string }): Promise<void> {
  const tokenHash = hashToken(input.token);
  await prisma.personalAccessToken.upsert({
    where: { tokenHash },
    create: { id: generateCuid(), name: input.name, userId: input.userId, tokenHash, obfuscated: obfuscate(input.token) },
    update: { userId: input.userId, revokedAt: null },
  });
}

export async function listPersonalAccessTokens(prisma: ControlPlaneClient, userId: string): Promise<PersonalAccessTokenSummary[]> {
  return prisma.personalAccessToken.findMany({
    where: { userId, revokedAt: null },
    orderBy: { createdAt: "desc" },
    select: { id: true, name: true, obfuscated: true, createdAt: true, lastAccessedAt: true },
  });
}

/** Revokes one of the user's tokens; false when it is not theirs or already revoked. */
export async function revokePersonalAccessToken(prisma: ControlPlaneClient, userId: string, id: string): Promise<boolean> {
  const { count } = await prisma.personalAccessToken.updateMany({ where: { id, userId, revokedAt: null }, data: { revokedAt: new Date() } });
  return count === 1;
}

/** The user a live token belongs to, or null (unknown, revoked, or not a PAT). */
export async function findUserByPersonalAccessToken(prisma: ControlPlaneClient, token: string): Promise<PatUser | null> {
  if (!PAT_PATTERN.test(token)) return null;
  const row = await prisma.personalAccessToken.findUnique({
    where: { tokenHash: hashToken(token) },
    select: { id: true, revokedAt: true, lastAccessedAt: true, user: { select: { id: true, email: true, name: true, admin: true } } },
  });
  if (!row || row.revokedAt) return null;
  // At most one write a minute per token: the CLI calls on every command.
  if (!row.lastAccessedAt || Date.now() - row.lastAccessedAt.getTime() > 60_000) {
    await prisma.personalAccessToken.update({ where: { id: row.id }, data: { lastAccessedAt: new Date() } });
  }
  return row.user;
}
