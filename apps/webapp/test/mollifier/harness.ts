import { randomBytes } from "node:crypto";
import { createControlPlaneClient, type ControlPlaneClient } from "@internal/database";
import { PrismaControlPlaneResolver, type AuthenticatedEnvironment } from "@internal/database/resolver";
import { RunEngine, registerWorker, type TriggerInput } from "@internal/run-engine";
import { createRunStoreFromUrls, type RunStore } from "@internal/run-store";
import { createTestDatabase, createTestRedis, TEST_REDIS_URL, type TestDatabase, type TestRedis } from "@internal/testcontainers";
import { generateCuid } from "@runplane/core";
import { parseEnv } from "~/env.server";
import { mollifierConfigFromEnv, type MollifierConfig } from "~/v3/mollifier/config.server";
import { createMollifier, type Mollifier } from "~/v3/mollifier/mollifier.server";
import type { MollifierLog } from "~/v3/mollifier/types.server";

export type LogLine = { level: string; message: string; fields?: Record<string, unknown> };

export function recordingLogger(lines: LogLine[] = [], echo = process.env.MOLLIFIER_TEST_LOG === "1"): MollifierLog & { lines: LogLine[] } {
  const write = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    lines.push({ level, message, fields });
    if (echo || level === "error") console.log(level, message, fields ?? "");
  };
  return { lines, debug: write("debug"), info: write("info"), warn: write("warn"), error: write("error") };
}

export type Harness = {
  db: TestDatabase;
  redis: TestRedis;
  cp: ControlPlaneClient;
  store: RunStore;
  resolver: PrismaControlPlaneResolver;
  engine: RunEngine;
  mollifier: Mollifier;
  config: MollifierConfig;
  logger: ReturnType<typeof recordingLogger>;
  env: AuthenticatedEnvironment;
  /** Another environment (same org by default). */
  makeEnv: (options?: { newOrg?: boolean; featureFlags?: Record<string, unknown> }) => Promise<AuthenticatedEnvironment>;
  trigger: (overrides?: Partial<TriggerInput>, env?: AuthenticatedEnvironment) => TriggerInput;
  countRuns: (envId?: string) => Promise<number>;
  drainAll: (options?: { timeoutMs?: number }) => Promise<void>;
  close: () => Promise<void>;
};

const token = () => randomBytes(6).toString("hex");

export async function setupHarness(options: { env?: Record<string, string>; databaseUrl?: string } = {}): Promise<Harness> {
  const db = await createTestDatabase("control-plane");
  const redis = createTestRedis();
  const databaseUrl = options.databaseUrl ?? db.url;
  const { store, close: closeStore } = createRunStoreFromUrls({ databaseUrl, splitEnabled: false, poolSize: 10 });
  const cp = createControlPlaneClient({ connectionString: db.url, max: 4 });
  const resolver = new PrismaControlPlaneResolver({ client: cp });
  const logger = recordingLogger();
  const engine = new RunEngine({
    runStore: store,
    resolver,
    redis: redis.options,
    mintKind: "LEGACY",
    keyPrefix: "engine:",
    worker: { pollIntervalMs: 50 },
    logger: { ...logger, info: logger.info },
  });
  const config = mollifierConfigFromEnv(
    parseEnv({
      DATABASE_URL: db.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: redis.keyPrefix,
      MOLLIFIER_TRIP_THRESHOLD: "5",
      MOLLIFIER_TRIP_WINDOW_MS: "5000",
      MOLLIFIER_HOLD_MS: "2000",
      MOLLIFIER_DRAIN_CONCURRENCY: "20",
      MOLLIFIER_DRAIN_BATCH_SIZE: "50",
      ...options.env,
    })
  );
  const mollifier = createMollifier({ config, engine, runStore: store, logger, mintKind: "LEGACY" });

  const makeEnv = async (o: { newOrg?: boolean; featureFlags?: Record<string, unknown> } = {}, orgId?: string): Promise<AuthenticatedEnvironment> => {
    let organizationId = orgId;
    if (!organizationId || o.newOrg) {
      const org = await cp.organization.create({
        data: { id: generateCuid(), slug: `org-${token()}`, title: "Acme", featureFlags: (o.featureFlags ?? {}) as never },
      });
      organizationId = org.id;
    }
    const project = await cp.project.create({
      data: { id: generateCuid(), slug: `p-${token()}`, name: "Project", externalRef: `proj_${token()}`, organizationId },
    });
    const envRow = await cp.runtimeEnvironment.create({
      data: {
        id: generateCuid(),
        slug: "prod",
        type: "PRODUCTION",
        apiKey: `tr_prod_${token()}`,
        pkApiKey: `pk_prod_${token()}`,
        shortcode: token(),
        maximumConcurrencyLimit: 20,
        projectId: project.id,
        organizationId,
      },
    });
    const env = (await resolver.resolveAuthenticatedEnv(envRow.id))!;
    await registerWorker({ prisma: cp, resolver, engine }, env, { version: "v1", tasks: [{ id: "hello" }, { id: "parent" }] });
    return env;
  };
  const env = await makeEnv();

  const trigger = (overrides: Partial<TriggerInput> = {}, e: AuthenticatedEnvironment = env): TriggerInput => ({
    taskIdentifier: "hello",
    environment: e,
    payload: JSON.stringify({ n: Math.random() }),
    payloadType: "application/json",
    ...overrides,
  });

  const countRuns = async (envId?: string) => {
    const client = store.allClients()[0]!;
    return client.taskRun.count({ where: envId ? { runtimeEnvironmentId: envId } : {} });
  };

  const drainAll = async ({ timeoutMs = 30_000 } = {}) => {
    const deadline = Date.now() + timeoutMs;
    while ((await mollifier.buffer.getDepth()) > 0) {
      if (Date.now() > deadline) throw new Error(`buffer not drained after ${timeoutMs} ms (depth ${await mollifier.buffer.getDepth()})`);
      const result = await mollifier.drainerWorker.drainer.runOnce();
      if (result.drained + result.retried + result.failed === 0) await new Promise((r) => setTimeout(r, 50));
    }
  };

  return {
    db,
    redis,
    cp,
    store,
    resolver,
    engine,
    mollifier,
    config,
    logger,
    env,
    makeEnv: (o) => makeEnv(o, o?.newOrg ? undefined : env.organizationId),
    trigger,
    countRuns,
    drainAll,
    close: async () => {
      await mollifier.drainerWorker.stop(5_000);
      await mollifier.close();
      await engine.close();
      await closeStore();
      await cp.$disconnect();
      await redis.cleanup();
      await db.drop();
    },
  };
}
