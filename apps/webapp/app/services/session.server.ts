import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { createCookie, type Cookie } from "@remix-run/node";
import { generateCuid } from "@runplane/core";
import type { Runtime } from "~/services/runtime.server";

/**
 * Dashboard sessions. The cookie `__session` carries a random token, signed with SESSION_SECRET
 * (HttpOnly, SameSite=Lax, Secure when APP_ORIGIN is https). The database keeps only the token's
 * SHA-256 in `UserSession.tokenHash`, so a leaked table cannot be replayed as cookies. Deleting the
 * row (logout, expiry) ends the session everywhere.
 */

export const SESSION_COOKIE_NAME = "__session";
export const SESSION_TTL_MS = 30 * 24 * 60 * 60 * 1000;

type SessionRuntime = Pick<Runtime, "env" | "prisma">;

export type SessionUser = { id: string; email: string; name: string | null; admin: boolean };
export type ActiveSession = { id: string; expiresAt: Date; user: SessionUser };

const cookies = new Map<string, Cookie>();

function sessionCookie(env: SessionRuntime["env"]): Cookie {
  const key = `${env.SESSION_SECRET}\u0000${env.APP_ORIGIN}`;
  let cookie = cookies.get(key);
  if (!cookie) {
    cookie = createCookie(SESSION_COOKIE_NAME, {
      httpOnly: true,
      sameSite: "lax",
      path: "/",
      secure: env.APP_ORIGIN.startsWith("https:"),
      secrets: [env.SESSION_SECRET],
      maxAge: Math.floor(SESSION_TTL_MS / 1000),
    });
    cookies.set(key, cookie);
  }
  return cookie;
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString("base64url");
}

/** Creates a session row for the user; returns the Set-Cookie header value. Prunes the user's expired sessions. */
export async function createUserSession(runtime: SessionRuntime, userId: string): Promise<string> {
  const token = randomToken();
  const now = new Date();
  await runtime.prisma.userSession.deleteMany({ where: { userId, expiresAt: { lt: now } } });
  await runtime.prisma.userSession.create({
    data: { id: generateCuid(), tokenHash: hashToken(token), userId, expiresAt: new Date(now.getTime() + SESSION_TTL_MS) },
  });
  return sessionCookie(runtime.env).serialize(token);
}

async function sessionToken(runtime: SessionRuntime, request: Request): Promise<string | null> {
  const header = request.headers.get("cookie");
  if (!header) return null;
  // parse() verifies the signature and returns false/null for a tampered or unsigned value.
  const value: unknown = await sessionCookie(runtime.env).parse(header);
  return typeof value === "string" && value.length > 0 ? value : null;
}

/** The request's live session and its user, or null (no cookie, bad signature, unknown or expired). */
export async function getSession(runtime: SessionRuntime, request: Request): Promise<ActiveSession | null> {
  const token = await sessionToken(runtime, request);
  if (!token) return null;
  const row = await runtime.prisma.userSession.findUnique({
    where: { tokenHash: hashToken(token) },
    select: { id: true, expiresAt: true, user: { select: { id: true, email: true, name: true, admin: true } } },
  });
  if (!row || row.expiresAt.getTime() <= Date.now()) return null;
  return row;
}

/** Deletes the request's session row (if any); returns the Set-Cookie header that clears the cookie. */
export async function destroySession(runtime: SessionRuntime, request: Request): Promise<string> {
  const token = await sessionToken(runtime, request);
  if (token) await runtime.prisma.userSession.deleteMany({ where: { tokenHash: hashToken(token) } });
  return sessionCookie(runtime.env).serialize("", { maxAge: 0, expires: new Date(0) });
}

/**
 * The session's CSRF token: an HMAC of the session id under SESSION_SECRET. Forms that change state
 * carry it in a hidden `csrf` field; another site cannot read it, so it cannot forge the POST.
 */
export function csrfTokenFor(runtime: Pick<Runtime, "env">, session: Pick<ActiveSession, "id">): string {
  return createHmac("sha256", runtime.env.SESSION_SECRET).update(`csrf:${session.id}`).digest("base64url");
}

export function isValidCsrfToken(runtime: Pick<Runtime, "env">, session: Pick<ActiveSession, "id">, candidate: unknown): boolean {
  if (typeof candidate !== "string" || candidate.length === 0) return false;
  const expected = Buffer.from(csrfTokenFor(runtime, session));
  const given = Buffer.from(candidate);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
