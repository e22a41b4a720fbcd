import { engineStore, type TaskRun } from "@internal/run-store";
import type { Runtime } from "~/services/runtime.server";
import { readBufferedEntry, runFriendlyIdOf } from "~/v3/mollifier/readFallback.server";
import { jsonBlock, timestamp, type Packet, type Timestamp } from "./format";
import { envPath, runPath } from "./paths";

// ------------------------------------------------------------------------------------------------
// Users and organisations

export type AdminUserRow = {
  email: string;
  name: string | null;
  admin: boolean;
  createdAt: Timestamp;
  organizations: string[];
  activeSessions: number;
};

export type AdminOrgRow = {
  slug: string;
  title: string;
  href: string;
  createdAt: Timestamp;
  members: number;
  projects: { slug: string; name: string; externalRef: string; environments: { slug: string; href: string }[] }[];
};

export type AdminOverview = { query: string; users: AdminUserRow[]; organizations: AdminOrgRow[]; limited: boolean };

const ADMIN_LIST_LIMIT = 100;

export async function presentAdminOverview(runtime: Pick<Runtime, "prisma">, url: URL, now: Date = new Date()): Promise<AdminOverview> {
  const query = (url.searchParams.get("q") ?? "").trim().slice(0, 200);
  const match = query ? { contains: query, mode: "insensitive" as const } : undefined;
  const [users, organizations] = await Promise.all([
    runtime.prisma.user.findMany({
      where: match ? { OR: [{ email: match }, { name: match }] } : {},
      orderBy: { createdAt: "asc" },
      take: ADMIN_LIST_LIMIT + 1,
      select: {
        email: true,
        name: true,
        admin: true,
        createdAt: true,
        orgs: { select: { organization: { select: { slug: true } } } },
        _count: { select: { sessions: { where: { expiresAt: { gt: now } } } } },
      },
    }),
    runtime.prisma.organization.findMany({
      where: match ? { OR: [{ slug: match }, { title: match }] } : {},
      orderBy: { createdAt: "asc" },
      take: ADMIN_LIST_LIMIT + 1,
      select: {
        slug: true,
        title: true,
        createdAt: true,
        _count: { select: { members: true } },
        projects: {
          orderBy: { createdAt: "asc" },
          select: { slug: true, name: true, externalRef: true, environments: { where: { archivedAt: null }, select: { slug: true } } },
        },
      },
    }),
  ]);
  return {
    query,
    limited: users.length > ADMIN_LIST_LIMIT || organizations.length > ADMIN_LIST_LIMIT,
    users: users.slice(0, ADMIN_LIST_LIMIT).map((u) => ({
      email: u.email,
      name: u.name,
      admin: u.admin,
      createdAt: timestamp(u.createdAt, now),
      organizations: u.orgs.map((m) => m.organization.slug),
      activeSessions: u._count.sessions,
    })),
    organizations: organizations.slice(0, ADMIN_LIST_LIMIT).map((o) => ({
      slug: o.slug,
      title: o.title,
      href: `/admin/orgs/${encodeURIComponent(o.slug)}`,
      createdAt: timestamp(o.createdAt, now),
      members: o._count.members,
      projects: o.projects.map((p) => ({
        slug: p.slug,
        name: p.name,
        externalRef: p.externalRef,
        environments: p.environments.map((e) => ({
          slug: e.slug,
          href: `${envPath({ organization: o, project: p, environment: e })}/runs`,
        })),
      })),
    })),
  };
}

export type AdminOrgPage = {
  slug: string;
  title: string;
  createdAt: Timestamp;
  members: { userId: string; email: string; role: string; admin: boolean; since: Timestamp }[];
};

export async function presentAdminOrganization(runtime: Pick<Runtime, "prisma">, slug: string, now: Date = new Date()): Promise<AdminOrgPage | null> {
  const org = await runtime.prisma.organization.findUnique({
    where: { slug },
    select: {
      slug: true,
      title: true,
      createdAt: true,
      members: {
        orderBy: { createdAt: "asc" },
        select: { role: true, createdAt: true, user: { select: { id: true, email: true, admin: true } } },
      },
    },
  });
  if (!org) return null;
  return {
    slug: org.slug,
    title: org.title,
    createdAt: timestamp(org.createdAt, now),
    members: org.members.map((m) => ({
      userId: m.user.id,
      email: m.user.email,
      role: m.role,
      admin: m.user.admin,
      since: timestamp(m.createdAt, now),
    })),
  };
}

// ------------------------------------------------------------------------------------------------
// Debug run

export type RedisKeyRow = { label: string; key: string; value: string };

export type RunDebugPage = {
  query: string;
  found: boolean;
  run: {
    friendlyId: string;
    status: string;
    residency: string;
    database: string;
    dashboardHref: string | null;
    environment: string;
    row: Packet;
  } | null;
  snapshots: { id: string; at: Timestamp; executionStatus: string; runStatus: string; description: string; attemptNumber: number | null; isValid: boolean }[];
  latestSnapshot: Packet;
  queue: {
    message: Packet;
    state: string;
    queueName: string;
    concurrencyKey: string;
    counts: { label: string; value: string }[];
    keys: RedisKeyRow[];
  } | null;
  /** The trigger-buffer entry and the run it stands for (what the API shows while buffered). */
  buffer: { available: boolean; note: string; entry: Packet; synthetic: Packet };
};

function parseOrKeep(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Accepts `run_…` or a bare internal id (cuid or ksuid). */
function lookupFor(raw: string): { friendlyId: string } | { id: string } | null {
  const value = raw.trim();
  if (!/^[A-Za-z0-9_]{1,80}$/.test(value)) return null;
  if (value.startsWith("run_")) return { friendlyId: value };
  if (value.includes("_")) return null;
  return { id: value };
}

/**
 * Everything about one run, for operators: the row (from whichever database owns it), its
 * snapshots, and its state in the run queue (message, concurrency sets, limits, with the raw Redis
 * keys so they can be inspected with redis-cli). Admin only; the route enforces that.
 */
export async function presentRunDebug(
  runtime: Pick<Runtime, "prisma" | "runStore" | "resolver" | "engine" | "redis" | "runOps" | "mollifier">,
  rawId: string,
  now: Date = new Date()
): Promise<RunDebugPage> {
  const lookup = lookupFor(rawId);
  const [run, buffer] = await Promise.all([lookup ? runtime.runStore.findRun(lookup) : null, findBufferEntryForDebug(runtime, lookup)]);
  if (!run) {
    return { query: rawId, found: buffer.entry !== null, run: null, snapshots: [], latestSnapshot: null, queue: null, buffer };
  }

  const [env, snapshots, latest, queue] = await Promise.all([
    runtime.resolver.resolveEnv(run.runtimeEnvironmentId),
    engineStore.listRecentSnapshots(runtime.runStore, run.id, 25),
    engineStore.findLatestSnapshot(runtime.runStore, run.id),
    queueState(runtime, run),
  ]);
  const scope = env
    ? await runtime.prisma.runtimeEnvironment.findUnique({
        where: { id: env.id },
        select: { slug: true, project: { select: { slug: true, organization: { select: { slug: true } } } } },
      })
    : null;
  const residency = runtime.runStore.residencyOf(run.id);
  return {
    query: rawId,
    found: true,
    run: {
      friendlyId: run.friendlyId,
      status: run.status,
      residency,
      database: runtime.runStore.splitEnabled && residency === "NEW" ? "run-ops database" : "control-plane database",
      dashboardHref: scope
        ? runPath({ organization: scope.project.organization, project: scope.project, environment: scope }, run.friendlyId)
        : null,
      environment: scope
        ? `${scope.project.organization.slug} / ${scope.project.slug} / ${scope.slug} (${run.runtimeEnvironmentId})`
        : `${run.runtimeEnvironmentId} (not found in the control plane)`,
      row: jsonBlock(run),
    },
    snapshots: snapshots.map((s) => ({
      id: s.id,
      at: timestamp(s.createdAt, now),
      executionStatus: s.executionStatus,
      runStatus: s.runStatus,
      description: s.description,
      attemptNumber: s.attemptNumber,
      isValid: s.isValid,
    })),
    latestSnapshot: jsonBlock(latest),
    queue,
    buffer,
  };
}

async function queueState(runtime: Pick<Runtime, "engine" | "redis">, run: TaskRun): Promise<RunDebugPage["queue"]> {
  const runQueue = runtime.engine.runQueue;
  const keys = runQueue.keys;
  const message = await runQueue.peekMessage(run.id);
  const envId = message?.environmentId ?? run.runtimeEnvironmentId;
  const queueName = message?.queue ?? run.queue;
  const ck = message?.concurrencyKey ?? run.concurrencyKey ?? "";
  const r = runtime.redis;

  const [
    envMeta,
    queueMeta,
    envRunning,
    queueRunning,
    subRunning,
    inEnvRunning,
    inQueueRunning,
    inSubRunning,
    queueLength,
    subLength,
    subScore,
    ttlScore,
    inflight,
    deadLetter,
  ] = await Promise.all([
    r.hgetall(keys.envMeta(envId)),
    r.hgetall(keys.queueMeta(envId, queueName)),
    r.scard(keys.envRunning(envId)),
    r.scard(keys.queueRunning(envId, queueName)),
    r.scard(keys.subRunning(envId, queueName, ck)),
    r.sismember(keys.envRunning(envId), run.id),
    r.sismember(keys.queueRunning(envId, queueName), run.id),
    r.sismember(keys.subRunning(envId, queueName, ck), run.id),
    runQueue.lengthOfQueue(envId, queueName),
    r.zcard(keys.subQueue(envId, queueName, ck)),
    r.zscore(keys.subQueue(envId, queueName, ck), run.id),
    r.zscore(keys.ttl(), run.id),
    r.hget(keys.inflight(), run.id),
    r.hexists(keys.deadLetters(), run.id),
  ]);
  const defaultLimit = runQueue.options.defaultEnvConcurrencyLimit ?? 10;
  const yesNo = (n: number) => (n === 1 ? "yes" : "no");
  const fmtScore = (score: string | null) => (score === null ? "—" : `${score} (${new Date(Number(score)).toISOString()})`);
  return {
    message: jsonBlock(message ?? null),
    state: message ? message.state : deadLetter ? "dead-lettered" : "no message",
    queueName,
    concurrencyKey: ck,
    counts: [
      { label: "Env running / limit", value: `${envRunning} / ${envMeta.limit ?? `${defaultLimit} (default)`}${envMeta.burst ? ` × burst ${envMeta.burst}` : ""}` },
      { label: "Env paused", value: envMeta.paused === "1" ? "yes" : "no" },
      { label: "Queue running / limit", value: `${queueRunning} / ${queueMeta.limit ?? "none (env limit applies)"}` },
      { label: "Queue paused", value: queueMeta.paused === "1" ? "yes" : "no" },
      { label: ck ? `Key "${ck}" running` : "Running without a key", value: String(subRunning) },
      { label: "Queued in queue (all keys)", value: String(queueLength) },
      { label: "Queued in this key's sub-queue", value: String(subLength) },
      { label: "Run holds env / queue / key slot", value: `${yesNo(inEnvRunning)} / ${yesNo(inQueueRunning)} / ${yesNo(inSubRunning)}` },
      { label: "Score in sub-queue", value: fmtScore(subScore) },
      { label: "TTL expires at", value: fmtScore(ttlScore) },
      { label: "In flight", value: inflight ?? "no" },
      { label: "Dead-lettered", value: deadLetter ? "yes" : "no" },
    ],
    keys: [
      { label: "Message hash (field = run id)", key: keys.messages(), value: message ? "present" : "absent" },
      { label: "In-flight hash", key: keys.inflight(), value: inflight ?? "absent" },
      { label: "Env meta (limit, burst, paused)", key: keys.envMeta(envId), value: JSON.stringify(envMeta) },
      { label: "Env running set", key: keys.envRunning(envId), value: `${envRunning} members` },
      { label: "Queue meta (limit, paused)", key: keys.queueMeta(envId, queueName), value: JSON.stringify(queueMeta) },
      { label: "Queue running set", key: keys.queueRunning(envId, queueName), value: `${queueRunning} members` },
      { label: "Sub-queue (queued runs of this key)", key: keys.subQueue(envId, queueName, ck), value: `${subLength} members` },
      { label: "Sub-queue running set", key: keys.subRunning(envId, queueName, ck), value: `${subRunning} members` },
      { label: "TTL index", key: keys.ttl(), value: ttlScore ?? "not indexed" },
      { label: "Env dead letters", key: keys.envDeadLetter(envId), value: deadLetter ? "run is dead-lettered" : "—" },
    ],
  };
}

/**
 * The run's entry in the trigger buffer (mollifier), if any: buffered runs have no row until the
 * drainer writes it, and a drained entry lingers briefly as MATERIALISED.
 */
async function findBufferEntryForDebug(
  runtime: Pick<Runtime, "mollifier">,
  lookup: { friendlyId: string } | { id: string } | null
): Promise<RunDebugPage["buffer"]> {
  if (!lookup) return { available: true, note: "Not a run id.", entry: null, synthetic: null };
  const friendlyId = runFriendlyIdOf("friendlyId" in lookup ? lookup.friendlyId : lookup.id);
  try {
    const buffer = runtime.mollifier.buffer;
    const [entry, ttl] = await Promise.all([buffer.getEntry(friendlyId), buffer.getEntryTtlSeconds(friendlyId)]);
    if (!entry) return { available: true, note: "No entry in the trigger buffer.", entry: null, synthetic: null };
    const read = readBufferedEntry(entry);
    return {
      available: true,
      note: `Status ${entry.status}, ${entry.attempts} drain attempt(s)${ttl > 0 ? `, expires in ${ttl} s` : ""}.`,
      // The payload is the serialised trigger: shown as JSON rather than as one escaped string.
      entry: jsonBlock({ ...entry, payload: parseOrKeep(entry.payload) }),
      synthetic: read ? jsonBlock(read.run) : null,
    };
  } catch (error) {
    return { available: false, note: `The trigger buffer could not be read: ${error instanceof Error ? error.message : String(error)}`, entry: null, synthetic: null };
  }
}
