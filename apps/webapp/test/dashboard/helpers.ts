import { createControlPlaneClient, type ControlPlaneClient } from "@internal/database";
import { PrismaControlPlaneResolver, type ResolvedEnvironment } from "@internal/database/resolver";
import { registerWorker, RunEngine, type RegisterWorkerBody, type TriggerInput } from "@internal/run-engine";
import { createRunStoreFromUrls, type RunStore } from "@internal/run-store";
import { generateCuid } from "@runplane/core";
import type { TestServer } from "../support/testServer";

/**
 * Dashboard test helpers: log in through the real console-link flow, fetch pages with the session
 * cookie, and drive runs with a RunEngine sharing the server's databases and Redis prefix.
 */

export type Browserless = { cookie: string; email: string };

/** Asks /login for a link, reads it from the server's stdout, follows it; returns the session cookie. */
export async function loginAs(server: TestServer, email: string, redirectTo = "/"): Promise<Browserless & { link: string; landing: string }> {
  const before = server.output().stdout.length;
  const response = await fetch(`${server.baseUrl}/login`, {
    method: "POST",
    body: new URLSearchParams({ email, redirectTo }),
    redirect: "manual",
  });
  if (response.status !== 200) throw new Error(`POST /login answered ${response.status}: ${await response.text()}`);
  const link = await waitForLoginLink(server, email, before);
  const landing = await fetch(link, { redirect: "manual" });
  const setCookie = landing.headers.get("set-cookie") ?? "";
  const match = /__session=[^;]+/.exec(setCookie);
  if (landing.status !== 302 || !match) throw new Error(`login link answered ${landing.status} without a session cookie`);
  return { cookie: match[0], email, link, landing: landing.headers.get("location") ?? "" };
}

export async function waitForLoginLink(server: TestServer, email: string, fromOffset = 0, timeoutMs = 5_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  const pattern = new RegExp(`Login link for ${email.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}[^\\n]*\\n\\s*(\\S+)`);
  for (;;) {
    const match = pattern.exec(server.output().stdout.slice(fromOffset));
    if (match) return match[1];
    if (Date.now() > deadline) throw new Error(`no login link for ${email} in the server output`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function get(server: TestServer, path: string, cookie?: string): Promise<Response> {
  return fetch(`${server.baseUrl}${path}`, { headers: cookie ? { cookie } : {}, redirect: "manual" });
}

export async function post(server: TestServer, path: string, cookie: string, fields: Record<string, string>): Promise<Response> {
  return fetch(`${server.baseUrl}${path}`, {
    method: "POST",
    headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields),
    redirect: "manual",
  });
}

export function csrfFrom(html: string): string {
  const match = /name="csrf" value="([^"]+)"/.exec(html);
  if (!match) throw new Error("no CSRF field in the page");
  return match[1];
}

export const DEV_ENV_PATH = "/orgs/default/projects/default/env/dev";
export const PROD_ENV_PATH = "/orgs/default/projects/default/env/prod";

export type EngineDriver = {
  engine: RunEngine;
  store: RunStore;
  cp: ControlPlaneClient;
  resolver: PrismaControlPlaneResolver;
  dev: ResolvedEnvironment;
  prod: ResolvedEnvironment;
  trigger(env: ResolvedEnvironment, input: Partial<TriggerInput> & { taskIdentifier: string }): Promise<{ id: string; friendlyId: string }>;
  register(env: ResolvedEnvironment, body: RegisterWorkerBody): Promise<unknown>;
  /** Dequeues one run of `env`, starts it and completes it with `completion` (output JSON or an error). */
  execute(env: ResolvedEnvironment, completion: { output: unknown } | { error: string }): Promise<string | null>;
  close(): Promise<void>;
};

/** A second engine on the server's databases and Redis prefix (what a worker's calls would do through the API). */
export async function engineFor(server: TestServer): Promise<EngineDriver> {
  const split = server.runOpsDatabaseUrl !== undefined;
  const { store, close: closeStore } = createRunStoreFromUrls({
    databaseUrl: server.databaseUrl,
    runOpsDatabaseUrl: server.runOpsDatabaseUrl,
    splitEnabled: split,
    poolSize: 3,
  });
  const cp = createControlPlaneClient({ connectionString: server.databaseUrl, max: 2 });
  const resolver = new PrismaControlPlaneResolver({ client: cp });
  const engine = new RunEngine({
    runStore: store,
    resolver,
    redis: server.redis.url,
    keyPrefix: `${server.redis.keyPrefix}engine:`,
    mintKind: split ? "NEW" : "LEGACY",
    logger: { debug() {}, info() {}, warn() {}, error: (msg, fields) => console.error(msg, fields) },
  });
  const envByKey = async (apiKey: string) => {
    const row = await cp.runtimeEnvironment.findUniqueOrThrow({ where: { apiKey }, select: { id: true } });
    return (await resolver.resolveEnv(row.id))!;
  };
  const dev = await envByKey(server.devSecretKey);
  const prod = await envByKey(server.prodSecretKey);
  return {
    engine,
    store,
    cp,
    resolver,
    dev,
    prod,
    async trigger(env, input) {
      const { run } = await engine.trigger({ payload: JSON.stringify({ hello: "world" }), traceId: generateCuid(), spanId: generateCuid(), ...input, environment: env });
      return { id: run.id, friendlyId: run.friendlyId };
    },
    register: (env, body) => registerWorker({ prisma: cp, resolver, engine }, env, body),
    async execute(env, completion) {
      const [dequeued] = await engine.dequeue({ environmentId: env.id, consumerId: "test", maxRuns: 1, waitMs: 2_000 });
      if (!dequeued) return null;
      const started = await engine.startRunAttempt(dequeued.runId, dequeued.snapshotId);
      await engine.completeRunAttempt(
        dequeued.runId,
        started.snapshotId,
        "output" in completion
          ? { ok: true, output: JSON.stringify(completion.output), usageDurationMs: 420 }
          : { ok: false, error: { type: "BUILT_IN_ERROR", name: "Error", message: completion.error, stackTrace: `Error: ${completion.error}\n    at run (src/trigger/tasks.ts:12:11)` }, skipRetrying: true }
      );
      return dequeued.runFriendlyId;
    },
    async close() {
      await engine.close();
      await closeStore();
      await cp.$disconnect();
    },
  };
}

/** A second organisation (own project and env) with `memberEmails` as members; returns its env path. */
export async function createOrganization(cp: ControlPlaneClient, slug: string, memberEmails: string[]): Promise<string> {
  const org = await cp.organization.create({ data: { id: generateCuid(), slug, title: slug.toUpperCase() } });
  const project = await cp.project.create({
    data: { id: generateCuid(), slug: "app", name: "App", externalRef: `proj_${generateCuid().slice(0, 12)}`, organizationId: org.id },
  });
  await cp.runtimeEnvironment.create({
    data: {
      id: generateCuid(),
      slug: "prod",
      type: "PRODUCTION",
      apiKey: `tr_prod_${generateCuid()}`,
      pkApiKey: `pk_prod_${generateCuid()}`,
      shortcode: generateCuid().slice(0, 8),
      projectId: project.id,
      organizationId: org.id,
    },
  });
  for (const email of memberEmails) {
    const user = await cp.user.upsert({ where: { email }, create: { id: generateCuid(), email }, update: {}, select: { id: true } });
    await cp.orgMember.create({ data: { id: generateCuid(), organizationId: org.id, userId: user.id } });
  }
  return `/orgs/${slug}/projects/app/env/prod`;
}
