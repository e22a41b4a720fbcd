import { createHash } from "node:crypto";
import type { ControlPlaneClient } from "@internal/database";
import { generateCuid, ValidationError } from "@runplane/core";
import { z } from "zod";
import { randomString } from "~/models/apiKeys.server";
import { createPersonalAccessToken } from "~/models/personalAccessTokens.server";
import { hashToken } from "~/services/session.server";

/**
 * `trigger.dev login -a <url>`: the CLI asks for an authorization code (with a PKCE S256 challenge),
 * the user approves it on the dashboard after signing in, and the approving browser alone receives
 * an approval code (redirected to the CLI's loopback callback, or shown to paste). The CLI exchanges
 * authorization code + verifier + approval code, once, for a new personal access token.
 */
export const AUTHORIZATION_CODE_TTL_MS = 10 * 60 * 1000;

export const CreateAuthorizationCodeRequest = z.object({
  codeChallenge: z.string().regex(/^[A-Za-z0-9_-]{43}$/, "codeChallenge must be a base64url SHA-256"),
  codeChallengeMethod: z.literal("S256"),
  callbackPort: z.number().int().min(1024).max(65535).optional(),
});

export const ExchangeAuthorizationCodeRequest = z.object({
  authorizationCode: z.string().min(1).max(128),
  codeVerifier: z.string().min(43).max(128).optional(),
  approvalCode: z.string().min(1).max(128).optional(),
});

export async function createAuthorizationCode(prisma: ControlPlaneClient, appOrigin: string, body: z.infer<typeof CreateAuthorizationCodeRequest>) {
  const code = randomString(40);
  await prisma.authorizationCode.create({
    data: {
      id: generateCuid(),
      code,
      codeChallenge: body.codeChallenge,
      callbackPort: body.callbackPort ?? null,
      expiresAt: new Date(Date.now() + AUTHORIZATION_CODE_TTL_MS),
    },
  });
  return {
    url: `${appOrigin}/account/authorization-code/${code}`,
    authorizationCode: code,
    approval: body.callbackPort ? ("callback" as const) : ("paste" as const),
  };
}

/** A code the dashboard may still approve, or null (unknown, expired, already approved or used). */
export async function findApprovableCode(prisma: ControlPlaneClient, code: string) {
  const row = await prisma.authorizationCode.findUnique({ where: { code }, select: { id: true, callbackPort: true, expiresAt: true, approvedAt: true, consumedAt: true } });
  if (!row || row.approvedAt || row.consumedAt || row.expiresAt.getTime() <= Date.now()) return null;
  return row;
}

/** Approves for `userId`; returns the approval code (only this browser sees it) and where to send it. */
export async function approveAuthorizationCode(prisma: ControlPlaneClient, code: string, userId: string) {
  const approvalCode = `${randomString(4, "ABCDEFGHJKLMNPQRSTUVWXYZ23456789")}-${randomString(4, "ABCDEFGHJKLMNPQRSTUVWXYZ23456789")}-${randomString(4, "ABCDEFGHJKLMNPQRSTUVWXYZ23456789")}`;
  const { count } = await prisma.authorizationCode.updateMany({
    where: { code, approvedAt: null, consumedAt: null, expiresAt: { gt: new Date() } },
    data: { approvedAt: new Date(), approvedByUserId: userId, approvalCodeHash: hashToken(approvalCode) },
  });
  if (count !== 1) return null;
  const row = await prisma.authorizationCode.findUniqueOrThrow({ where: { code }, select: { callbackPort: true } });
  return { approvalCode, callbackPort: row.callbackPort };
}

/**
 * The CLI's exchange. Not approved yet → `{ token: null }` (it keeps waiting); a wrong verifier or
 * approval code, or an expired or used code → 400 and nothing changes; otherwise a new token, once.
 */
export async function exchangeAuthorizationCode(prisma: ControlPlaneClient, body: z.infer<typeof ExchangeAuthorizationCodeRequest>) {
  const row = await prisma.authorizationCode.findUnique({ where: { code: body.authorizationCode } });
  if (!row || row.consumedAt || row.expiresAt.getTime() <= Date.now()) throw new ValidationError("Unknown, expired or already used authorization code");
  if (!row.approvedAt || !row.approvedByUserId || !row.approvalCodeHash) return { token: null };
  const challenge = body.codeVerifier ? createHash("sha256").update(body.codeVerifier).digest("base64url") : null;
  if (challenge !== row.codeChallenge) throw new ValidationError("The code verifier does not match this login");
  if (!body.approvalCode || hashToken(body.approvalCode.trim().toUpperCase()) !== row.approvalCodeHash) throw new ValidationError("Wrong approval code");
  const { count } = await prisma.authorizationCode.updateMany({ where: { id: row.id, consumedAt: null }, data: { consumedAt: new Date() } });
  if (count !== 1) throw new ValidationError("Unknown, expired or already used authorization code");
  const { token, summary } = await createPersonalAccessToken(prisma, { userId: row.approvedByUserId, name: "CLI login" });
  return { token: { token, obfuscatedToken: summary.obfuscated } };
}
