import { describe, expect, it } from "vitest";
import { ValidationError } from "@runplane/core/errors";
import { isTask, task, toTaskDefinition } from "../src/task.js";
import { collectTaskSources, defaultVersion } from "../src/worker.js";
import { WorkerRegisterRequest } from "../src/protocol.js";

const run = async () => "ok";

describe("task()", () => {
  it("builds a frozen task with a default queue and a definition the register schema accepts", () => {
    const t = task({
      id: "send-email",
      run,
      retry: { maxAttempts: 3, factor: 2, minTimeoutInMs: 100, maxTimeoutInMs: 1000, randomize: true },
      maxDuration: 60,
    });
    expect(isTask(t)).toBe(true);
    expect(Object.isFrozen(t)).toBe(true);
    expect(t.queue).toEqual({ name: "task/send-email", concurrencyLimit: undefined });
    const def = toTaskDefinition({ task: t, filePath: "src/email.ts", exportName: "sendEmail" });
    expect(def).toEqual({
      id: "send-email",
      queue: { name: "task/send-email" },
      filePath: "src/email.ts",
      exportName: "sendEmail",
      retry: { maxAttempts: 3, factor: 2, minTimeoutInMs: 100, maxTimeoutInMs: 1000, randomize: true },
      maxDuration: 60,
    });
    expect(WorkerRegisterRequest.safeParse({ version: "1", tasks: [def] }).success).toBe(true);
    const queued = toTaskDefinition({ task: task({ id: "q", run, queue: { name: "emails", concurrencyLimit: 5 } }) });
    expect(queued.queue).toEqual({ name: "emails", concurrencyLimit: 5 });
  });

  it.each([
    [{ maxAttempts: 0 }, "retry.maxAttempts"],
    [{ maxAttempts: 1.5 }, "retry.maxAttempts"],
    [{ maxAttempts: 251 }, "retry.maxAttempts"],
    [{ factor: 0.5 }, "retry.factor"],
    [{ minTimeoutInMs: -1 }, "retry.minTimeoutInMs"],
    [{ minTimeoutInMs: 5000, maxTimeoutInMs: 1000 }, "minTimeoutInMs must not exceed"],
    [{ randomize: "yes" }, "retry.randomize"],
    [{ maxAttemps: 3 }, "Unrecognized key"],
  ])("refuses retry %j", (retry, expected) => {
    expect(() => task({ id: "t", run, retry: retry as never })).toThrow(ValidationError);
    expect(() => task({ id: "t", run, retry: retry as never })).toThrow(expected);
  });

  it("refuses bad ids, queues, maxDuration and a missing run", () => {
    expect(() => task({ id: "", run })).toThrow("task id must not be empty");
    expect(() => task({ id: "has space", run })).toThrow(ValidationError);
    expect(() => task({ id: "t", run, maxDuration: 2 })).toThrow("maxDuration");
    expect(() => task({ id: "t", run, queue: { concurrencyLimit: -1 } })).toThrow("queue.concurrencyLimit");
    expect(() => task({ id: "t" } as never)).toThrow("run");
    expect(() => task({ id: "t", run, machine: "huge" as never })).toThrow("machine");
  });

  it("trigger() outside a worker needs a configured client", async () => {
    const t = task({ id: "t", run });
    const saved = { ...process.env };
    delete process.env.RUNPLANE_API_URL;
    delete process.env.TRIGGER_API_URL;
    try {
      await expect(t.trigger({})).rejects.toThrow("No Runplane client configured");
      await expect(t.triggerAndWait({})).rejects.toThrow("inside a task's run()");
    } finally {
      process.env = saved;
    }
  });
});

describe("collectTaskSources", () => {
  it("dedupes the same object and refuses two tasks with one id", () => {
    const a = task({ id: "a", run });
    expect([...collectTaskSources([a, { task: a, filePath: "x.ts" }]).keys()]).toEqual(["a"]);
    expect(() => collectTaskSources([a, task({ id: "a", run })])).toThrow('Two different tasks use the id "a"');
    expect(() => collectTaskSources([{ id: "fake" } as never])).toThrow("task() objects");
  });

  it("default versions are sortable timestamps", () => {
    expect(defaultVersion(new Date("2026-11-23T10:45:12Z"))).toBe("20261123.104512");
  });
});
