import type { TestRedis } from "@internal/testcontainers";
import { RunQueue, type QueueMessageInput, type RunQueueOptions } from "../src/runQueue/index.js";

export function createQueue(redis: TestRedis, options: Partial<RunQueueOptions> = {}): RunQueue {
  return new RunQueue({ redis: redis.options, defaultEnvConcurrencyLimit: 100, ...options });
}

let counter = 0;
export function message(overrides: Partial<QueueMessageInput> = {}): QueueMessageInput {
  counter += 1;
  return {
    runId: `run_${counter.toString().padStart(6, "0")}`,
    orgId: "org_1",
    projectId: "proj_1",
    environmentId: "env_1",
    environmentType: "PRODUCTION",
    queue: "task/my-task",
    taskIdentifier: "my-task",
    priorityMs: 0,
    timestamp: Date.now() - 1000,
    attempt: 0,
    ...overrides,
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
