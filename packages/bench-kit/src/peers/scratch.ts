import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import pg from "pg";

export type ScratchDatabase = { url: string; name: string; drop: () => Promise<void> };

/** A new empty database beside `adminUrl`'s (named `<prefix>_<random>`); `drop()` removes only that one. */
export async function createScratchDatabase(adminUrl: string, prefix: string): Promise<ScratchDatabase> {
  const name = `${prefix}_${randomBytes(5).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: async () => {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** A key prefix no one else uses: `<name>:<random>:`. */
export function scratchPrefix(name: string): string {
  return `${name}:${randomBytes(5).toString("hex")}:`;
}

/** Deletes every key under `prefix` (SCAN, never KEYS). Returns how many were deleted. */
export async function deleteKeysWithPrefix(redis: Redis, prefix: string): Promise<number> {
  if (prefix.length < 4 || !prefix.endsWith(":")) throw new Error(`refusing to delete keys under a broad prefix "${prefix}"`);
  let cursor = "0";
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== "0");
  return deleted;
}
