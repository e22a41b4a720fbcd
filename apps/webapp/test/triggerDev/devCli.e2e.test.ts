import { configure, runs, tasks, wait } from "@trigger.dev/sdk";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { MODES } from "../api/support/api";
import { startTestServer, type TestServer } from "../support/testServer";
import { fixtureProjectDir, projectRefOf, randomPat, spawnCli, waitForFinished, waitForRun, type CliProcess } from "./support";

/**
 * `trigger.dev dev` (the published CLI 4.8.3, unmodified) executes the fixture project's tasks, written
 * only with @trigger.dev/sdk, against a real Runplane server; runs are triggered and read back with the
 * published SDK. Single or split mode, per RUNPLANE_TEST_SPLIT.
 */
describe.each(MODES)("trigger.dev dev against Runplane ($mode)", ({ split }) => {
  let server: TestServer;
  let cli: CliProcess;
  const pat = randomPat();

  beforeAll(async () => {
    server = await startTestServer({ split, env: { BOOTSTRAP_ADMIN_PAT: pat } });
    cli = spawnCli(["dev", "--api-url", server.baseUrl, "--project-ref", projectRefOf(server), "--skip-update-check", "--skip-platform-notifications"], {
      cwd: fixtureProjectDir,
      env: { TRIGGER_ACCESS_TOKEN: pat },
    });
    await cli.waitFor("Local worker ready", 120_000);
    configure({ baseURL: server.baseUrl, accessToken: server.devSecretKey });
  }, 180_000);

  afterAll(async () => {
    await cli?.stop();
    await server?.stop();
  }, 60_000);

  const finished = (runId: string, timeoutMs = 45_000) => waitForFinished(runId, timeoutMs, () => cli.output());

  test("a plain task runs and returns its output", async () => {
    const handle = await tasks.trigger("hello", { name: "Ada" });
    const run = await finished(handle.id);
    expect(run.status).toBe("COMPLETED");
    expect(run.output).toEqual({ message: "Hello, Ada!", attempt: 1 });
  });

  test("a task that fails twice succeeds on its third attempt (the CLI's retry decision)", async () => {
    const run = await finished((await tasks.trigger("flaky", {})).id);
    expect(run.status).toBe("COMPLETED");
    expect(run.attemptCount).toBe(3);
    expect(run.output).toEqual({ succeededOnAttempt: 3 });
  });

  test("triggerAndWait and batchTriggerAndWait resume the parent with the children's outputs", async () => {
    const run = await finished((await tasks.trigger("parent", {})).id, 60_000);
    expect(run.status).toBe("COMPLETED");
    expect(run.output).toEqual({ single: "Hello, child!", batch: ["Hello, one!", "Hello, two!"] });
  });

  test("wait.for({ seconds: 3 }) holds the run on the server and resumes it", async () => {
    const run = await finished((await tasks.trigger("sleeper", {})).id);
    expect(run.status).toBe("COMPLETED");
    expect((run.output as { waitedMs: number }).waitedMs).toBeGreaterThanOrEqual(3_000);
  });

  test("wait.forToken resumes when the token is completed through the SDK", async () => {
    const token = await wait.createToken({ timeout: "5m" });
    const handle = await tasks.trigger("approval", { tokenId: token.id });
    // Complete it once the task reached its wait (either order resumes the run; this is the common one).
    await waitForRun(handle.id, (run) => run.metadata?.waitingFor === token.id, 30_000, () => cli.output());
    await wait.completeToken(token.id, { approved: true });
    const run = await finished(handle.id);
    expect(run.status).toBe("COMPLETED");
    expect(run.output).toEqual({ approved: true });
  });

  test("metadata.set and tags.add from the task are on the run; the task's telemetry goes to this server's /otel", async () => {
    const run = await finished((await tasks.trigger("observed", {})).id);
    expect(run.status).toBe("COMPLETED");
    expect(run.metadata).toMatchObject({ progress: 100, stage: "done" });
    expect([...run.tags].sort()).toEqual(["from-task", "observed"]);
    // logger.info is exported over OTLP to the endpoint the attempt start hands the task process,
    // and lands in the run's trace.
    expect(run.output).toEqual({ otlpEndpoint: `${server.baseUrl}/otel` });
    const messages = async () => {
      const res = await fetch(`${server.baseUrl}/api/v1/runs/${run.id}/trace`, { headers: { authorization: `Bearer ${server.devSecretKey}` } });
      const messagesOf = (span: { data?: { message?: string }; children?: unknown[] }): string[] => [
        span.data?.message ?? "",
        ...((span.children ?? []) as Array<typeof span>).flatMap(messagesOf),
      ];
      return res.status === 200 ? messagesOf(((await res.json()) as { trace: { rootSpan: { data?: { message?: string }; children?: unknown[] } } }).trace.rootSpan) : [];
    };
    const deadline = Date.now() + 45_000;
    while (!(await messages()).includes("hello from the observed task")) {
      if (Date.now() > deadline) throw new Error(`logger.info never reached the trace: ${JSON.stringify(await messages())}
${cli.output().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }, 90_000);

  test("a cancel while executing reaches the CLI, which ends the task process", async () => {
    const handle = await tasks.trigger("long-running", {});
    await waitForRun(handle.id, (run) => run.status === "EXECUTING", 30_000, () => cli.output());
    await runs.cancel(handle.id);
    expect((await finished(handle.id, 30_000)).status).toBe("CANCELED");
    // The run is PENDING_CANCEL until the CLI, polling snapshots/latest, ends the task process and
    // acknowledges; the server would only give up after 60 s without that.
    const ackDeadline = Date.now() + 30_000;
    for (;;) {
      const latest = await fetch(`${server.baseUrl}/engine/v1/dev/runs/${handle.id}/snapshots/latest`, {
        headers: { authorization: `Bearer ${server.devSecretKey}` },
      }).then((r) => r.json() as Promise<{ execution: { snapshot: { executionStatus: string } } }>);
      if (latest.execution.snapshot.executionStatus === "FINISHED") break;
      if (Date.now() > ackDeadline) throw new Error(`the CLI never acknowledged the cancel\n${cli.output().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  });
});
