import type { ControlPlaneClient } from "@internal/database";
import { listPersonalAccessTokens } from "~/models/personalAccessTokens.server";
import { timestamp } from "./format";

/** The settings page's list of the user's live tokens (never the token itself: only its obfuscated form). */
export async function presentAccessTokens(prisma: ControlPlaneClient, userId: string) {
  const tokens = await listPersonalAccessTokens(prisma, userId);
  return tokens.map((token) => ({
    id: token.id,
    name: token.name,
    obfuscated: token.obfuscated,
    createdAt: timestamp(token.createdAt),
    lastAccessedAt: timestamp(token.lastAccessedAt),
  }));
}
