/**
 * Token endpoints.
 *
 * - POST /api/v1/auth/jwt/claims (root key, empty body) → any JSON object. The SDK spreads it
 *   into the payload of the public token it then signs locally with the secret key, so it must
 *   carry `sub` (the environment id) and `pub: true`.
 * - POST /api/v1/auth/public-tokens (additional keys and run tokens, which cannot self-sign)
 *   → `{ token }`.
 */
import { z } from "zod";

export const JwtClaimsResponse = z.object({ sub: z.string(), pub: z.literal(true) }).passthrough();
export type JwtClaimsResponse = z.input<typeof JwtClaimsResponse>;

export const RealtimeClaim = z.object({ skipColumns: z.array(z.string()).optional() });

export const CreatePublicTokenRequestBody = z.object({
  scopes: z.array(z.string().min(1)).min(1, "scopes must name at least one scope"),
  /** A duration string (`"1h"`), or epoch seconds (the SDK sends a Date as epoch seconds). */
  expirationTime: z.union([z.string(), z.number()]).optional(),
  oneTimeUse: z.boolean().optional(),
  realtime: RealtimeClaim.optional(),
});
export type CreatePublicTokenRequestBody = z.output<typeof CreatePublicTokenRequestBody>;

export const CreatePublicTokenResponse = z.object({ token: z.string() });
