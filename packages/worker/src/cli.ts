import { existsSync } from "node:fs";
import { relative, resolve } from "node:path";
import { configure, resolveClientConfig } from "./config.js";
import { parseLogLevel, type LogLevel } from "./log.js";
import { isTask, type TaskSource } from "./task.js";
import { beginTriggerDevDiscovery, collectTriggerDevTasks, importTriggerDevFile, triggerDevFiles } from "./triggerDev/triggerDevTasks.js";
import { collectTaskSources, startWorker, type RunningWorker, type StartWorkerOptions } from "./worker.js";

export const USAGE = `Usage: runplane-worker [options] <task file…>

Loads every task exported from the given .ts/.js files, registers them as a worker version and runs
them until SIGTERM/SIGINT (graceful: in-flight runs get --shutdown-timeout-ms to finish).

Options:
  -c, --concurrency <n>          runs executing at once (default 10; env RUNPLANE_WORKER_CONCURRENCY)
  -v, --version <version>        worker version to register (default a timestamp; env RUNPLANE_WORKER_VERSION)
      --api-url <url>            server URL (env RUNPLANE_API_URL or TRIGGER_API_URL)
      --poll-wait-ms <ms>        dequeue/continue long-poll wait (default 20000)
      --shutdown-timeout-ms <ms> grace period on shutdown (default 30000)
      --log-level <level>        debug | info | warn | error (default info; env RUNPLANE_LOG_LEVEL)
  -h, --help                     show this help

The secret key comes from the environment only: RUNPLANE_SECRET_KEY or TRIGGER_SECRET_KEY.`;

export type CliArgs = {
  files: string[];
  concurrency?: number;
  version?: string;
  apiUrl?: string;
  pollWaitMs?: number;
  shutdownTimeoutMs?: number;
  logLevel?: LogLevel;
  help: boolean;
};

export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CliError";
  }
}

function toInt(flag: string, value: string | undefined): number {
  if (value === undefined || !/^\d+$/.test(value)) throw new CliError(`${flag} needs a non-negative integer`);
  return Number(value);
}

export function parseArgs(argv: string[]): CliArgs {
  const args: CliArgs = { files: [], help: false };
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    const eq = raw.startsWith("--") ? raw.indexOf("=") : -1;
    const flag = eq > 0 ? raw.slice(0, eq) : raw;
    const inline = eq > 0 ? raw.slice(eq + 1) : undefined;
    const next = () => {
      if (inline !== undefined) return inline;
      const value = argv[++i];
      if (value === undefined) throw new CliError(`${flag} needs a value`);
      return value;
    };
    switch (flag) {
      case "-h":
      case "--help":
        args.help = true;
        break;
      case "-c":
      case "--concurrency":
        args.concurrency = toInt(flag, next());
        break;
      case "-v":
      case "--version":
        args.version = next();
        break;
      case "--api-url":
        args.apiUrl = next();
        break;
      case "--poll-wait-ms":
        args.pollWaitMs = toInt(flag, next());
        break;
      case "--shutdown-timeout-ms":
        args.shutdownTimeoutMs = toInt(flag, next());
        break;
      case "--log-level": {
        const level = next();
        if (!["debug", "info", "warn", "error"].includes(level)) throw new CliError(`--log-level must be debug, info, warn or error`);
        args.logLevel = level as LogLevel;
        break;
      }
      case "--":
        args.files.push(...argv.slice(i + 1));
        i = argv.length;
        break;
      default:
        if (raw.startsWith("-")) throw new CliError(`Unknown option ${raw}`);
        args.files.push(raw);
    }
  }
  return args;
}

/**
 * Imports each file and collects every exported task object (named exports and the default export):
 * `@runplane/worker` tasks, and tasks defined with `@trigger.dev/sdk` (task, schemaTask), which run
 * through the SDK's own executor (src/triggerDev/).
 */
export async function discoverTasks(files: string[], cwd = process.cwd()): Promise<TaskSource[]> {
  const sources: TaskSource[] = [];
  beginTriggerDevDiscovery();
  for (const file of files) {
    const absolute = resolve(cwd, file);
    if (!existsSync(absolute)) throw new CliError(`Task file not found: ${file}`);
    let mod: Record<string, unknown>;
    try {
      mod = await importTriggerDevFile(absolute, cwd);
    } catch (error) {
      throw new CliError(`Could not load ${file}: ${(error as Error).message}`);
    }
    const filePath = relative(cwd, absolute) || absolute;
    for (const [exportName, value] of Object.entries(mod)) {
      if (isTask(value)) sources.push({ task: value, filePath, exportName });
    }
  }
  sources.push(...collectTriggerDevTasks(triggerDevFiles(files, cwd), triggerDevConnection));
  // Duplicate ids across files are an error; the same object re-exported is fine.
  return [...collectTaskSources(sources).values()];
}

export type CliEnv = NodeJS.ProcessEnv;

/** Where a trigger.dev task's in-task SDK calls go: the worker's own server and key. */
function triggerDevConnection() {
  const config = resolveClientConfig();
  if (!config) throw new Error("No Runplane client configured for the trigger.dev task runtime");
  return config;
}

/** Builds the worker options from args and environment; throws CliError on anything missing. */
export function workerOptionsFrom(args: CliArgs, env: CliEnv, tasks: TaskSource[]): StartWorkerOptions {
  const apiUrl = args.apiUrl ?? env.RUNPLANE_API_URL ?? env.TRIGGER_API_URL;
  const secretKey = env.RUNPLANE_SECRET_KEY ?? env.TRIGGER_SECRET_KEY;
  if (!apiUrl) throw new CliError("No server URL: set RUNPLANE_API_URL (or TRIGGER_API_URL) or pass --api-url");
  if (!secretKey) throw new CliError("No secret key: set RUNPLANE_SECRET_KEY (or TRIGGER_SECRET_KEY)");
  const envConcurrency = env.RUNPLANE_WORKER_CONCURRENCY ? toInt("RUNPLANE_WORKER_CONCURRENCY", env.RUNPLANE_WORKER_CONCURRENCY) : undefined;
  const options: StartWorkerOptions = {
    apiUrl,
    secretKey,
    tasks,
    concurrency: args.concurrency ?? envConcurrency ?? 10,
    logLevel: args.logLevel ?? parseLogLevel(env.RUNPLANE_LOG_LEVEL),
  };
  const version = args.version ?? env.RUNPLANE_WORKER_VERSION;
  if (version) options.version = version;
  if (args.pollWaitMs !== undefined) options.pollWaitMs = args.pollWaitMs;
  if (args.shutdownTimeoutMs !== undefined) options.shutdownTimeoutMs = args.shutdownTimeoutMs;
  return options;
}

/** The CLI: returns the process exit code once the worker has stopped. */
export async function main(argv: string[], env: CliEnv = process.env): Promise<number> {
  let worker: RunningWorker;
  try {
    const args = parseArgs(argv);
    if (args.help) {
      process.stdout.write(USAGE + "\n");
      return 0;
    }
    if (args.files.length === 0) throw new CliError("No task files given");
    const tasks = await discoverTasks(args.files);
    if (tasks.length === 0) throw new CliError(`No exported tasks found in ${args.files.join(", ")}`);
    const options = workerOptionsFrom(args, env, tasks);
    configure({ apiUrl: options.apiUrl, secretKey: options.secretKey });
    worker = await startWorker(options);
  } catch (error) {
    process.stderr.write(`runplane-worker: ${(error as Error).message}\n`);
    if (!(error instanceof CliError)) process.stderr.write(USAGE.split("\n")[0] + "\n");
    return 1;
  }

  // Task code shares this process: a stray rejection is logged, not fatal; an uncaught exception stops
  // the worker gracefully (its state can no longer be trusted) and exits 1.
  process.on("unhandledRejection", (reason) => {
    process.stderr.write(`runplane-worker: unhandled rejection in task code: ${(reason as Error)?.stack ?? String(reason)}\n`);
  });
  return new Promise<number>((resolveExit) => {
    process.on("uncaughtException", (error) => {
      process.stderr.write(`runplane-worker: uncaught exception, stopping: ${error.stack ?? error.message}\n`);
      worker.stop().finally(() => resolveExit(1));
    });
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      signals++;
      if (signals > 1) {
        process.stderr.write(`runplane-worker: second ${signal}, exiting now\n`);
        resolveExit(130);
        return;
      }
      worker.stop().then(
        () => resolveExit(0),
        (error) => {
          process.stderr.write(`runplane-worker: shutdown failed: ${(error as Error).message}\n`);
          resolveExit(1);
        },
      );
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  });
}
