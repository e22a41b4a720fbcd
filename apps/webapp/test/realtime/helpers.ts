import { randomBytes } from "node:crypto";
import { generateCuid } from "@runplane/core";
import { createControlPlaneClient, type ControlPlaneClient } from "@internal/database";
import { PrismaControlPlaneResolver, type AuthenticatedEnvironment } from "@internal/database/resolver";
import { RunEngine, registerWorker, type TriggerInput } from "@internal/run-engine";
import { createRunStoreFromUrls, type RunStore, type TaskRun } from "@internal/run-store";
import { TEST_REDIS_URL } from "@internal/testcontainers";
import { createRedisClient } from "@runplane/redis-worker/redis";
import { isChangeMessage, isControlMessage, ShapeStream, type Message, type Row } from "@electric-sql/client";
import type { Redis } from "ioredis";
import { logger } from "~/services/logger.server";
import { RealtimeChangeLog } from "~/v3/realtime/changeLog.server";
import { RealtimeChangePublisher } from "~/v3/realtime/changePublisher.server";
import type { TestServer } from "../support/testServer";

/**
 * "Another instance" beside a test server: a RunEngine of our own on the server's databases and
 * Redis prefix, whose events go through the same realtime publisher the webapp installs. A change
 * made here reaches the server's held long-polls only through Redis.
 */
export type OtherInstance = {
  engine: RunEngine;
  store: RunStore;
  cp: ControlPlaneClient;
  resolver: PrismaControlPlaneResolver;
  /** The DEVELOPMENT environment (the server's devSecretKey). */
  env: AuthenticatedEnvironment;
  /** The PRODUCTION environment (prodSecretKey). */
  prodEnv: AuthenticatedEnvironment;
  changeLog: RealtimeChangeLog;
  publisher: RealtimeChangePublisher;
  trigger(input: Partial<TriggerInput> & { taskIdentifier?: string }, env?: AuthenticatedEnvironment): Promise<TaskRun>;
  /** A fresh environment of the same project (its own queue), with a worker registered. */
  newEnvironment(): Promise<{ env: AuthenticatedEnvironment; secretKey: string }>;
  close(): Promise<void>;
};

export async function otherInstance(server: TestServer, options: { publish?: boolean } = {}): Promise<OtherInstance> {
  const split = Boolean(server.runOpsDatabaseUrl);
  const { store, close: closeStore } = createRunStoreFromUrls({
    databaseUrl: server.databaseUrl,
    runOpsDatabaseUrl: server.runOpsDatabaseUrl,
    splitEnabled: split,
    poolSize: 4,
  });
  const cp = createControlPlaneClient({ connectionString: server.databaseUrl, max: 2 });
  const resolver = new PrismaControlPlaneResolver({ client: cp });
  const env = await resolver.resolveEnvByApiKey(server.devSecretKey);
  const prodEnv = await resolver.resolveEnvByApiKey(server.prodSecretKey);
  if (!env || !prodEnv) throw new Error("the test server's environments were not found");
  const quiet = { debug() {}, info() {}, warn() {}, error: (msg: string, f?: Record<string, unknown>) => console.error(msg, f) };
  const engine = new RunEngine({
    runStore: store,
    resolver,
    redis: TEST_REDIS_URL,
    mintKind: split ? "NEW" : "LEGACY",
    keyPrefix: `${server.redis.keyPrefix}engine:`,
    logger: quiet,
  });
  const redis: Redis = createRedisClient(TEST_REDIS_URL, "realtime-test-instance");
  const changeLog = new RealtimeChangeLog({ redis, keyPrefix: server.redis.keyPrefix });
  const publisher = new RealtimeChangePublisher({ changeLog, runStore: store, logger });
  const detach = options.publish === false ? () => {} : publisher.attach(engine.eventBus);
  await registerWorker({ prisma: cp, resolver, engine }, env, { version: "20250101.1", tasks: [{ id: "hello" }, { id: "other" }] });

  return {
    engine,
    store,
    cp,
    resolver,
    env,
    prodEnv,
    changeLog,
    publisher,
    async trigger(input, target = env) {
      const { run } = await engine.trigger({
        taskIdentifier: "hello",
        payload: JSON.stringify({ hello: "world" }),
        payloadType: "application/json",
        ...input,
        environment: target,
      });
      return run;
    },
    async newEnvironment() {
      const token = randomBytes(8).toString("hex");
      const row = await cp.runtimeEnvironment.create({
        data: {
          id: generateCuid(),
          slug: `rt-${token}`,
          type: "PRODUCTION",
          apiKey: `tr_prod_${token}`,
          pkApiKey: `pk_prod_${token}`,
          shortcode: token.slice(0, 6),
          maximumConcurrencyLimit: 10,
          projectId: env.projectId,
          organizationId: env.organizationId,
        },
      });
      const created = await resolver.resolveEnvByApiKey(row.apiKey);
      if (!created) throw new Error("the new environment was not found");
      await registerWorker({ prisma: cp, resolver, engine }, created, { version: "20250101.1", tasks: [{ id: "hello" }, { id: "other" }] });
      return { env: created, secretKey: row.apiKey };
    },
    async close() {
      detach();
      await publisher.drain();
      await engine.close();
      await Promise.allSettled([closeStore(), cp.$disconnect(), redis.quit()]);
    },
  };
}

/** Dequeues the next run of the environment and starts its attempt; returns what completing needs. */
export async function startNextRun(instance: OtherInstance, env: { id: string } = instance.env) {
  const [dequeued] = await instance.engine.dequeue({ environmentId: env.id, consumerId: "test", maxRuns: 1, waitMs: 5000 });
  if (!dequeued) throw new Error("nothing to dequeue");
  const started = await instance.engine.startRunAttempt(dequeued.runId, dequeued.snapshotId);
  return { runId: dequeued.runId, snapshotId: started.snapshotId };
}

export type ShapeEvents = {
  /** Every message batch the client delivered. */
  batches: Message<Row>[][];
  /** Rows by key, merged the way the SDK merges them. */
  rows: Map<string, Row>;
  /** Change messages, in order. */
  changes: Array<{ operation: string; value: Row }>;
  errors: unknown[];
  stream: ShapeStream<Row>;
  stop(): void;
};

/** A real `@electric-sql/client` ShapeStream on a realtime URL, collecting what it delivers. */
export function collectShape(url: string, token: string): ShapeEvents {
  const controller = new AbortController();
  const stream = new ShapeStream<Row>({ url, headers: { Authorization: `Bearer ${token}` }, signal: controller.signal });
  const events: ShapeEvents = { batches: [], rows: new Map(), changes: [], errors: [], stream, stop: () => controller.abort() };
  stream.subscribe(
    (messages) => {
      events.batches.push(messages);
      for (const message of messages) {
        if (isChangeMessage(message)) {
          events.changes.push({ operation: message.headers.operation, value: message.value });
          if (message.headers.operation !== "delete") {
            events.rows.set(message.key, { ...(events.rows.get(message.key) ?? {}), ...message.value });
          }
        } else if (isControlMessage(message) && message.headers.control === "must-refetch") {
          events.rows.clear();
        }
      }
    },
    (error) => events.errors.push(error)
  );
  return events;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Raw GET with a bearer token; returns status, headers and the parsed JSON body. */
export async function getShape(url: string, token: string, signal?: AbortSignal) {
  const response = await fetch(url, { headers: { Authorization: `Bearer ${token}` }, signal });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.status, headers: response.headers, body: body as any };
}
