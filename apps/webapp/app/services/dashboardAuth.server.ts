import { redirect } from "@remix-run/node";
import { generateCuid } from "@runplane/core";
import { z } from "zod";
import type { Runtime } from "~/services/runtime.server";
import {
  createUserSession,
  getSession,
  hashToken,
  isValidCsrfToken,
  randomToken,
  type ActiveSession,
} from "~/services/session.server";

/**
 * Who may see which dashboard page.
 *
 * - Login is by magic link. No mail server is assumed: the link is printed to the server's stdout
 *   ("console-link mode"), so whoever runs the server hands it over. Links are single use, expire
 *   after 15 minutes, and live in Redis as a hash of their token.
 * - Any email may ask for a link; the account is created when the link is used. A new account
 *   belongs to no organisation until an admin adds it. Emails in ADMIN_EMAILS are admins.
 * - Organisation pages answer 404 to anyone who is not a member (the page's existence is not
 *   revealed); `/admin` answers 404 to everyone but admins.
 * - State-changing forms carry the session's CSRF token (see session.server.ts).
 */

export const MAGIC_LINK_TTL_SECONDS = 15 * 60;
const MAGIC_LINK_RATE_WINDOW_SECONDS = 10 * 60;
const MAGIC_LINK_RATE_LIMIT = 10;

type AuthRuntime = Pick<Runtime, "env" | "prisma" | "redis" | "logger">;

/** Deliberately loose (like ADMIN_EMAILS): self-hosted installs use addresses such as `admin@localhost`. */
export const LoginEmailSchema = z
  .string()
  .trim()
  .toLowerCase()
  .max(254)
  .regex(/^[^\s@,<>"]+@[^\s@,<>"]+$/, "Enter a valid email address");

const MagicLinkEntrySchema = z.object({ email: z.string(), redirectTo: z.string() });

function magicLinkKey(env: Runtime["env"], tokenHash: string): string {
  return `${env.REDIS_KEY_PREFIX}auth:magic:${tokenHash}`;
}

/** Only same-site absolute paths: never another origin (`//host`, `/\host`, `https://…`). */
export function safeRedirectPath(value: unknown, fallback = "/"): string {
  if (typeof value !== "string" || !value.startsWith("/") || value.startsWith("//") || value.startsWith("/\\")) return fallback;
  return value;
}

export type MagicLinkRequest = { ok: true } | { ok: false; error: string };

/** Mints a login link for `email` and delivers it (console-link mode: printed to stdout). */
export async function requestMagicLink(runtime: AuthRuntime, rawEmail: unknown, redirectTo: unknown): Promise<MagicLinkRequest> {
  const parsed = LoginEmailSchema.safeParse(rawEmail);
  if (!parsed.success) return { ok: false, error: parsed.error.issues[0]?.message ?? "Enter a valid email address" };
  const email = parsed.data;

  const rateKey = `${runtime.env.REDIS_KEY_PREFIX}auth:magic-rate:${hashToken(email)}`;
  const [[, count]] = (await runtime.redis
    .multi()
    .incr(rateKey)
    .expire(rateKey, MAGIC_LINK_RATE_WINDOW_SECONDS, "NX")
    .exec()) as [[Error | null, number]];
  if (count > MAGIC_LINK_RATE_LIMIT) return { ok: false, error: "Too many login links requested for this email; try again in a few minutes" };

  const token = randomToken();
  const entry = { email, redirectTo: safeRedirectPath(redirectTo) };
  await runtime.redis.set(magicLinkKey(runtime.env, hashToken(token)), JSON.stringify(entry), "EX", MAGIC_LINK_TTL_SECONDS);
  deliverMagicLink(runtime, email, `${runtime.env.APP_ORIGIN}/login/magic?token=${encodeURIComponent(token)}`);
  return { ok: true };
}

/**
 * Console-link mode: the link goes to stdout as a plain block, whatever LOG_LEVEL is (like the boot
 * banner), e.g. `docker compose logs webapp | grep -A1 "Login link"`.
 */
function deliverMagicLink(runtime: AuthRuntime, email: string, url: string): void {
  runtime.logger.info("login link issued", { email });
  process.stdout.write(
    `\n  Login link for ${email} (single use, valid ${MAGIC_LINK_TTL_SECONDS / 60} minutes):\n  ${url}\n\n`
  );
}

export type MagicLinkLogin = { setCookie: string; redirectTo: string } | null;

/** Uses up a login link: creates the user if new, opens a session. Null when unknown, used or expired. */
export async function consumeMagicLink(runtime: AuthRuntime, token: unknown): Promise<MagicLinkLogin> {
  if (typeof token !== "string" || token.length < 16 || token.length > 200) return null;
  const raw = await runtime.redis.getdel(magicLinkKey(runtime.env, hashToken(token)));
  if (!raw) return null;
  const entry = MagicLinkEntrySchema.safeParse(JSON.parse(raw));
  if (!entry.success) return null;
  const email = entry.data.email;
  const isAdmin = runtime.env.ADMIN_EMAILS.includes(email);
  const user = await runtime.prisma.user.upsert({
    where: { email },
    create: { id: generateCuid(), email, admin: isAdmin },
    // ADMIN_EMAILS promotes existing accounts too; removing an email never demotes (that is a database edit).
    update: isAdmin ? { admin: true } : {},
    select: { id: true },
  });
  runtime.logger.info("user logged in", { userId: user.id });
  return { setCookie: await createUserSession(runtime, user.id), redirectTo: entry.data.redirectTo };
}

export function notFound(message = "Not found"): Response {
  return new Response(message, { status: 404, statusText: "Not Found" });
}

/** The logged-in session, or a redirect to /login that comes back here afterwards. */
export async function requireSession(runtime: Pick<Runtime, "env" | "prisma">, request: Request): Promise<ActiveSession> {
  const session = await getSession(runtime, request);
  if (session) return session;
  const url = new URL(request.url);
  throw redirect(`/login?redirectTo=${encodeURIComponent(url.pathname + url.search)}`);
}

/** Admins only; anyone else logged in gets a 404, as if the page did not exist. */
export async function requireAdmin(runtime: Pick<Runtime, "env" | "prisma">, request: Request): Promise<ActiveSession> {
  const session = await requireSession(runtime, request);
  if (!session.user.admin) throw notFound();
  return session;
}

export type EnvironmentScope = {
  session: ActiveSession;
  organization: { id: string; slug: string; title: string };
  project: { id: string; slug: string; name: string; externalRef: string };
  environment: { id: string; slug: string; type: string; paused: boolean; maximumConcurrencyLimit: number };
};

const ScopeParamsSchema = z.object({ org: z.string().min(1), project: z.string().min(1), env: z.string().min(1) });

/**
 * The environment named by `/orgs/:org/projects/:project/env/:env`, if the user is a member of its
 * organisation; 404 otherwise (wrong slug and "not yours" look the same).
 */
export async function requireEnvironment(
  runtime: Pick<Runtime, "env" | "prisma">,
  request: Request,
  params: Record<string, string | undefined>
): Promise<EnvironmentScope> {
  const session = await requireSession(runtime, request);
  const slugs = ScopeParamsSchema.safeParse(params);
  if (!slugs.success) throw notFound();
  const environment = await runtime.prisma.runtimeEnvironment.findFirst({
    where: {
      slug: slugs.data.env,
      archivedAt: null,
      project: {
        slug: slugs.data.project,
        organization: { slug: slugs.data.org, members: { some: { userId: session.user.id } } },
      },
    },
    select: {
      id: true,
      slug: true,
      type: true,
      paused: true,
      maximumConcurrencyLimit: true,
      project: {
        select: {
          id: true,
          slug: true,
          name: true,
          externalRef: true,
          organization: { select: { id: true, slug: true, title: true } },
        },
      },
    },
  });
  if (!environment) throw notFound();
  const { project, ...env } = environment;
  const { organization, ...projectFields } = project;
  return { session, organization, project: projectFields, environment: env };
}

/** Refuses (403) a form post whose `csrf` field is not this session's token. */
export function requireCsrf(runtime: Pick<Runtime, "env">, session: ActiveSession, form: FormData): void {
  if (!isValidCsrfToken(runtime, session, form.get("csrf"))) {
    throw new Response("Invalid or missing CSRF token: reload the page and try again", { status: 403, statusText: "Forbidden" });
  }
}
