import { randomBytes } from "node:crypto";
import { createControlPlaneClient, type ControlPlaneClient } from "@internal/database";
import { PrismaControlPlaneResolver } from "@internal/database/resolver";
import { RunEngine } from "@internal/run-engine";
import { createRunStoreFromUrls, packetStore } from "@internal/run-store";
import { containerTest } from "@internal/testcontainers";
import { generateCuid, generateFriendlyId } from "@runplane/core";
import { Redis } from "ioredis";
import pg from "pg";
import { expect } from "vitest";
import { createLogger } from "~/services/logger.server";
import { deleteEnvironment, deleteProject, type CascadeCleanupDeps } from "~/v3/runOpsMigration/cascadeCleanup.server";
import { PostgresObjectStore } from "~/v3/packets/postgresObjectStore.server";

const token = () => randomBytes(5).toString("hex");

async function createEnv(cp: ControlPlaneClient, projectId: string, organizationId: string, slug: string) {
  return cp.runtimeEnvironment.create({
    data: {
      id: generateCuid(),
      slug,
      type: slug === "dev" ? "DEVELOPMENT" : "PRODUCTION",
      apiKey: `tr_${slug}_${token()}`,
      pkApiKey: `pk_${slug}_${token()}`,
      shortcode: token(),
      projectId,
      organizationId,
    },
  });
}

/** Rows of one run table for the given environments, counted straight in one database. */
async function count(url: string, table: string, envColumn: string, envIds: string[]): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query(`SELECT count(*)::int AS n FROM "${table}" WHERE "${envColumn}" = ANY($1)`, [envIds]);
    return rows[0].n;
  } finally {
    await client.end();
  }
}

async function runTableRows(urls: { legacy: string; runOps: string }, envIds: string[]) {
  const out: Record<string, number> = {};
  for (const [db, url] of Object.entries(urls)) {
    out[`${db}.TaskRun`] = await count(url, "TaskRun", "runtimeEnvironmentId", envIds);
    out[`${db}.Snapshot`] = await count(url, "TaskRunExecutionSnapshot", "environmentId", envIds);
    out[`${db}.Waitpoint`] = await count(url, "Waitpoint", "environmentId", envIds);
    out[`${db}.BatchTaskRun`] = await count(url, "BatchTaskRun", "runtimeEnvironmentId", envIds);
  }
  return out;
}

containerTest("deleteEnvironment / deleteProject remove run data from both databases, the control-plane rows, caches and queue state", async ({ databaseUrl, runOpsDatabaseUrl, redis }) => {
  const { store, close } = createRunStoreFromUrls({ databaseUrl, runOpsDatabaseUrl, splitEnabled: true, poolSize: 4 });
  const cp = createControlPlaneClient({ connectionString: databaseUrl, max: 4 });
  const resolver = new PrismaControlPlaneResolver({ client: cp });
  const engine = new RunEngine({ runStore: store, resolver, redis: redis.options, mintKind: "NEW", logger: { debug() {}, info() {}, warn() {}, error() {} } });
  const keys = new Redis(redis.options);
  const lines: { level: string; message: string; fields: Record<string, unknown> }[] = [];
  const logger = createLogger({
    level: "debug",
    sink: (level, line) => {
      const { message, ...fields } = JSON.parse(line);
      lines.push({ level, message, fields });
    },
  });
  const packets = new PostgresObjectStore(store);
  const deps: CascadeCleanupDeps = { prisma: cp, runStore: store, resolver, engine, redis: keys, logger, chunkSize: 2, packets };
  const urls = { legacy: databaseUrl, runOps: runOpsDatabaseUrl };
  try {
    const org = await cp.organization.create({ data: { id: generateCuid(), slug: `org-${token()}`, title: "Acme" } });
    const doomed = await cp.project.create({ data: { id: generateCuid(), slug: "doomed", name: "Doomed", externalRef: `proj_${token()}`, organizationId: org.id } });
    const kept = await cp.project.create({ data: { id: generateCuid(), slug: "kept", name: "Kept", externalRef: `proj_${token()}`, organizationId: org.id } });
    const prod = await createEnv(cp, doomed.id, org.id, "prod");
    const dev = await createEnv(cp, doomed.id, org.id, "dev");
    const other = await createEnv(cp, kept.id, org.id, "prod");
    const env = async (id: string) => (await resolver.resolveEnv(id))!;

    // prod: NEW and LEGACY runs, a NEW parent with a waited child (edge + RUN waitpoint), a NEW batch, a token.
    const e = await env(prod.id);
    await engine.trigger({ taskIdentifier: "hello", environment: e, payload: "{}" });
    await engine.trigger({ taskIdentifier: "hello", environment: e, payload: "{}", friendlyId: generateFriendlyId("run", "LEGACY"), concurrencyKey: "tenant-1" });
    const { run: parent } = await engine.trigger({ taskIdentifier: "parent", environment: e, payload: "{}" });
    await engine.trigger({ taskIdentifier: "child", environment: e, payload: "{}", parentRunId: parent.id, resumeParentOnCompletion: true });
    await engine.createBatch({ environment: e, runCount: 2 });
    await engine.createManualWaitpoint({ environment: e });
    // dev and the kept project's env: a NEW and a LEGACY run each.
    for (const id of [dev.id, other.id]) {
      await engine.trigger({ taskIdentifier: "hello", environment: await env(id), payload: "{}" });
      await engine.trigger({ taskIdentifier: "hello", environment: await env(id), payload: "{}", friendlyId: generateFriendlyId("run", "LEGACY") });
    }
    // offloaded packets (two chunks in run-ops, one in legacy) of prod, and one of the kept env
    const twoChunks = Buffer.alloc(packetStore.PACKET_CHUNK_BYTES + 10, 1);
    await packets.put(`${prod.id}/run_x/payload.json`, { data: twoChunks, contentType: "application/json" }, { environmentId: prod.id, residency: "NEW" });
    await packets.put(`${prod.id}/p/output.json`, { data: Buffer.from("{}"), contentType: "application/json" }, { environmentId: prod.id, residency: "LEGACY" });
    await packets.put(`${other.id}/p/payload.json`, { data: Buffer.from("{}"), contentType: "application/json" }, { environmentId: other.id, residency: "NEW" });
    const otherBefore = await runTableRows(urls, [other.id]);
    expect(otherBefore).toMatchObject({ "runOps.TaskRun": 1, "legacy.TaskRun": 1 });
    expect(await runTableRows(urls, [prod.id])).toMatchObject({
      "runOps.TaskRun": 3,
      "legacy.TaskRun": 1,
      "runOps.Waitpoint": 1,
      "legacy.Waitpoint": 1,
      "runOps.BatchTaskRun": 1,
    });
    expect(await engine.runQueue.lengthOfQueue(prod.id, "task/hello")).toBe(2);
    expect(await resolver.resolveEnv(prod.id)).not.toBeNull(); // cached from here on

    const first = await deleteEnvironment(deps, prod.id);
    expect(first.controlPlane).toEqual({ projects: 0, environments: 1 });
    expect(first.runData.byDatabase.NEW).toMatchObject({ TaskRun: 3, Waitpoint: 1, BatchTaskRun: 1, TaskRunWaitpoint: 1 });
    expect(first.runData.byDatabase.LEGACY).toMatchObject({ TaskRun: 1, Waitpoint: 1 });
    expect(first.runData.total.TaskRunExecutionSnapshot).toBeGreaterThanOrEqual(4);
    expect(first.queueMessagesAcknowledged).toBe(4);
    expect(first.queueKeysDeleted).toBeGreaterThan(0);
    expect(first.packetsDeleted).toBe(3);
    expect(await packets.get(`${prod.id}/run_x/payload.json`)).toBeNull();
    expect((await packets.get(`${other.id}/p/payload.json`))?.data.toString()).toBe("{}");
    expect(Object.values(await runTableRows(urls, [prod.id])).every((n) => n === 0)).toBe(true);
    expect(await runTableRows(urls, [other.id])).toEqual(otherBefore);
    expect(await cp.runtimeEnvironment.findUnique({ where: { id: prod.id } })).toBeNull();
    expect(await resolver.resolveEnv(prod.id)).toBeNull();
    expect(await engine.runQueue.lengthOfQueue(prod.id, "task/hello")).toBe(0);
    expect(await engine.runQueue.lengthOfQueue(prod.id, "task/hello", "tenant-1")).toBe(0);
    expect(await keys.exists(engine.runQueue.keys.envMeta(prod.id))).toBe(0);
    expect(await keys.zscore(engine.runQueue.keys.envs(), prod.id)).toBeNull();
    // The other environments still dequeue.
    expect(await engine.runQueue.lengthOfQueue(other.id, "task/hello")).toBe(2);

    // Per-table counts are logged, by database.
    const cleared = lines.filter((l) => l.message === "cascade cleanup: run data cleanup: table cleared");
    expect(cleared).toContainEqual(expect.objectContaining({ fields: expect.objectContaining({ database: "NEW", table: "TaskRun", deleted: 3 }) }));
    expect(cleared).toContainEqual(expect.objectContaining({ fields: expect.objectContaining({ database: "LEGACY", table: "Waitpoint", deleted: 1 }) }));
    expect(lines.at(-1)).toMatchObject({ message: "cascade cleanup: done" });

    // Idempotent: nothing left, nothing deleted.
    const again = await deleteEnvironment(deps, prod.id);
    expect(again.controlPlane).toEqual({ projects: 0, environments: 0 });
    expect(Object.values(again.runData.total).every((n) => n === 0)).toBe(true);
    expect(again.queueMessagesAcknowledged).toBe(0);
    expect(again.packetsDeleted).toBe(0);

    // The project: its remaining environment, its runs in both databases, the project row.
    const project = await deleteProject(deps, doomed.id);
    expect(project).toMatchObject({ environmentIds: [dev.id], controlPlane: { projects: 1, environments: 1 } });
    expect(project.runData.byDatabase).toMatchObject({ NEW: { TaskRun: 1 }, LEGACY: { TaskRun: 1 } });
    expect(Object.values(await runTableRows(urls, [dev.id])).every((n) => n === 0)).toBe(true);
    expect(await cp.project.findUnique({ where: { id: doomed.id } })).toBeNull();
    expect(await cp.project.findUnique({ where: { id: kept.id } })).not.toBeNull();
    expect(await runTableRows(urls, [other.id])).toEqual(otherBefore);
    expect((await deleteProject(deps, doomed.id)).controlPlane).toEqual({ projects: 0, environments: 0 });
  } finally {
    await engine.close();
    keys.disconnect();
    await close();
    await cp.$disconnect();
  }
});
