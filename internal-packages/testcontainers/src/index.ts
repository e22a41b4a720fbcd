export { postgresTest, heteroPostgresTest, redisTest, containerTest } from "./fixtures.js";
export type { PostgresFixture, HeteroPostgresFixture, RedisFixture } from "./fixtures.js";
export { createTestDatabase, type TestDatabase } from "./postgres.js";
export { createTestRedis, type TestRedis } from "./redis.js";
export { TEST_DATABASE_URL, TEST_REDIS_URL } from "./config.js";
