export { postgresTest, heteroPostgresTest, heteroVersionPostgresTest, redisTest, containerTest } from "./fixtures.js";
export type { PostgresFixture, HeteroPostgresFixture, HeteroVersionPostgresFixture, RedisFixture } from "./fixtures.js";
export { createTestDatabase, type TestDatabase } from "./postgres.js";
export { createTestRedis, type TestRedis } from "./redis.js";
export { TEST_DATABASE_URL, TEST_REDIS_URL, testSplitModeFromEnv } from "./config.js";
export { binariesPackageDir, startEmbeddedPostgres, EmbeddedPostgresUnavailableError, type EmbeddedPostgres } from "./embeddedPostgres.js";
export { freeLocalPort } from "./ports.js";
export { postgresMajorVersion } from "./serverVersion.js";
