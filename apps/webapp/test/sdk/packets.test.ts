import * as worker from "@runplane/worker";
import { configure, runs, tasks } from "@trigger.dev/sdk";
import pg from "pg";
import S3rver from "s3rver";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { api, MODES, waitFor } from "../api/support/api";
import { freePort, startTestServer, type TestServer } from "../support/testServer";

/**
 * Large payloads and outputs through the published SDK 4.8.3: the SDK offloads packets of 128 KiB or
 * more through the packet routes and signed URLs; runs.retrieve resolves the URLs. Both object stores:
 * Postgres chunks (default) and S3 (a local S3-compatible server started here).
 */
const KiB = 1024;
const MiB = 1024 * KiB;

function blob(bytes: number, seed: string): string {
  return seed.repeat(Math.ceil(bytes / seed.length)).slice(0, bytes);
}

type StoreMode = { store: "postgres" | "s3" };

describe.each(MODES)("large payloads ($mode)", ({ split }) => {
  describe.each<StoreMode>([{ store: "postgres" }, { store: "s3" }])("$store store", ({ store }) => {
    let server: TestServer;
    let running: worker.RunningWorker | undefined;
    let s3: S3rver | undefined;
    let s3Dir: string | undefined;

    const echoSize = worker.task({
      id: "packet-echo",
      run: async (payload: { body: string; outputBytes?: number }) => ({
        receivedBytes: payload.body.length,
        head: payload.body.slice(0, 16),
        out: payload.outputBytes ? blob(payload.outputBytes, "output-") : "",
      }),
    });
    const parent = worker.task({
      id: "packet-parent",
      run: async (payload: { bytes: number }, { ctx }) => {
        const child = await ctx.triggerAndWait<{ receivedBytes: number; out: string }>("packet-echo", { body: blob(payload.bytes, "child-"), outputBytes: payload.bytes });
        return child.ok ? { childReceived: child.output.receivedBytes, childOutput: child.output.out.length } : { error: String(child.error) };
      },
    });
    const huge = worker.task({ id: "packet-huge-output", retry: { maxAttempts: 1 }, run: async () => blob(11 * MiB, "x") });

    beforeAll(async () => {
      const env: Record<string, string> = {};
      if (store === "s3") {
        s3Dir = await mkdtemp(path.join(tmpdir(), "runplane-s3-"));
        const port = await freePort();
        s3 = new S3rver({ port, address: "127.0.0.1", silent: true, directory: s3Dir, configureBuckets: [{ name: "packets", configs: [] }] });
        await s3.run();
        Object.assign(env, {
          OBJECT_STORE_URL: `http://127.0.0.1:${port}`,
          OBJECT_STORE_BUCKET: "packets",
          OBJECT_STORE_ACCESS_KEY_ID: "S3RVER",
          OBJECT_STORE_SECRET_ACCESS_KEY: "S3RVER",
        });
      }
      server = await startTestServer({ split, env });
    }, 120_000);
    afterAll(async () => {
      await running?.stop();
      await server?.stop();
      await s3?.close();
      if (s3Dir) await rm(s3Dir, { recursive: true, force: true });
    }, 60_000);
    beforeEach(() => configure({ baseURL: server.baseUrl, accessToken: server.devSecretKey }));

    async function startWorker() {
      running ??= await worker.startWorker({
        apiUrl: server.baseUrl,
        secretKey: server.devSecretKey,
        tasks: [echoSize, huge, parent],
        concurrency: 4,
        pollWaitMs: 1_000,
        shutdownTimeoutMs: 5_000,
        logLevel: "error",
      });
    }

    test("a 300 KiB payload and a 2 MiB output round-trip", async () => {
      await startWorker();
      const body = blob(300 * KiB, "payload-");
      const handle = await tasks.trigger("packet-echo", { body, outputBytes: 2 * MiB });

      // the stored payload is a reference, and retrieve hands out a signed URL the SDK resolves
      const raw = await api(server, "GET", `/api/v3/runs/${handle.id}`);
      expect(raw.body.payloadPresignedUrl).toMatch(/\/packet-objects\//);
      const queued = await runs.retrieve(handle.id);
      expect((queued.payload as { body: string }).body).toBe(body);
      // the run packet route: the payload URL; 404 for a field that is not offloaded, for another environment, 400 for a bad field
      const runPacket = await api(server, "GET", `/api/v1/runs/${handle.id}/packets/payload`);
      expect(JSON.parse(await (await fetch(runPacket.body.presignedUrl)).text())).toBeDefined();
      expect((await api(server, "GET", `/api/v1/runs/${handle.id}/packets/output`)).status).toBe(404);
      expect((await api(server, "GET", `/api/v1/runs/${handle.id}/packets/payload`, { key: server.prodSecretKey })).status).toBe(404);
      expect((await api(server, "GET", `/api/v1/runs/${handle.id}/packets/metadata`)).status).toBe(400);

      const done = await runs.poll(handle.id, { pollIntervalMs: 200 });
      expect(done.status).toBe("COMPLETED");
      const output = done.output as { receivedBytes: number; head: string; out: string };
      expect(output.receivedBytes).toBe(body.length);
      expect(output.head).toBe(body.slice(0, 16));
      expect(output.out).toBe(blob(2 * MiB, "output-"));
      const finished = await api(server, "GET", `/api/v3/runs/${handle.id}`);
      expect(finished.body.outputPresignedUrl).toMatch(/\/packet-objects\//);
      expect(finished.body.output).toBeUndefined();

      // the embedded store keeps the chunks beside the run: in the run-ops database when split
      if (store === "postgres") {
        const chunks = async (url: string | undefined) => {
          if (!url) return 0;
          const client = new pg.Client({ connectionString: url });
          await client.connect();
          try {
            return Number((await client.query(`SELECT count(*)::int AS n FROM "PacketChunk"`)).rows[0].n);
          } finally {
            await client.end();
          }
        };
        const [controlPlane, runOps] = [await chunks(server.databaseUrl), await chunks(server.runOpsDatabaseUrl)];
        if (split) expect({ controlPlane, runOpsHasChunks: runOps > 0 }).toEqual({ controlPlane: 0, runOpsHasChunks: true });
        else expect(controlPlane).toBeGreaterThan(0);
      }
    }, 120_000);

    test("inside a task: a 300 KiB child payload is offloaded by the worker, and the child's 300 KiB output comes back", async () => {
      await startWorker();
      const done = await runs.poll((await tasks.trigger("packet-parent", { bytes: 300 * KiB })).id, { pollIntervalMs: 200 });
      expect(done.output).toEqual({ childReceived: 300 * KiB, childOutput: 300 * KiB });
      const child = done.relatedRuns.children?.[0];
      expect((await api(server, "GET", `/api/v3/runs/${child!.id}`)).body.payloadPresignedUrl).toMatch(/\/packet-objects\//);
    }, 120_000);

    test("11 MiB is refused with 413 naming the limit; an 11 MiB output fails the run with that message", async () => {
      const upload = await api(server, "PUT", `/api/v2/packets/${encodeURIComponent("big/payload.json")}`);
      expect(upload.status).toBe(200);
      expect(upload.body.storagePath).toBe("big/payload.json");
      const put = await fetch(upload.body.presignedUrl, { method: "PUT", headers: { "content-type": "application/json" }, body: blob(11 * MiB, "z") });
      expect(put.status).toBe(413);
      expect((await put.json()).error).toMatch(/10 MiB/);
      // nothing was stored
      const download = await api(server, "GET", `/api/v1/packets/${encodeURIComponent("big/payload.json")}`);
      expect((await fetch(download.body.presignedUrl)).status).toBe(404);

      await expect(tasks.trigger("packet-echo", { body: blob(11 * MiB, "y") })).rejects.toThrow();

      await startWorker();
      const failed = await runs.poll((await tasks.trigger("packet-huge-output", {})).id, { pollIntervalMs: 200 });
      expect(failed.status).toBe("FAILED");
      expect(failed.error?.message).toMatch(/10 MiB/);
    }, 120_000);

    test("signed URLs: tampered, wrong operation and another environment's packets are refused", async () => {
      const upload = await api(server, "PUT", `/api/v2/packets/${encodeURIComponent("sig/test.json")}`);
      const url = new URL(upload.body.presignedUrl);
      expect((await fetch(url, { method: "PUT", body: '{"a":1}', headers: { "content-type": "application/json" } })).status).toBe(200);

      const tampered = new URL(url);
      tampered.searchParams.set("exp", String(Date.now() + 86_400_000));
      const refused = await fetch(tampered, { method: "PUT", body: "{}" });
      expect(refused.status).toBe(403);
      expect((await refused.json()).error).toMatch(/signature/);
      expect((await fetch(url)).status).toBe(403); // a PUT URL does not download

      // the prod key asks for the same path: it gets its own environment's (absent) packet
      const other = await api(server, "GET", `/api/v1/packets/${encodeURIComponent("sig/test.json")}`, { key: server.prodSecretKey });
      expect((await fetch(other.body.presignedUrl)).status).toBe(404);
      const mine = await api(server, "GET", `/api/v1/packets/${encodeURIComponent("sig/test.json")}`);
      const got = await fetch(mine.body.presignedUrl);
      expect(got.headers.get("content-type")).toBe("application/json");
      expect(await got.json()).toEqual({ a: 1 });

      expect((await api(server, "GET", `/api/v1/packets/${encodeURIComponent("a/../b")}`)).status).toBe(400);
      expect((await api(server, "GET", `/api/v1/packets/x`, { key: null })).status).toBe(401);
    }, 60_000);
  });

  test("the buffered (mollifier) path keeps a large payload intact", async () => {
    const server = await startTestServer({
      split,
      env: { MOLLIFIER_TRIP_THRESHOLD: "1", MOLLIFIER_TRIP_WINDOW_MS: "60000", MOLLIFIER_HOLD_MS: "60000", MOLLIFIER_DRAINER_ENABLED: "false" },
    });
    let running: worker.RunningWorker | undefined;
    try {
      configure({ baseURL: server.baseUrl, accessToken: server.devSecretKey });
      const body = blob(400 * KiB, "buffered-");
      const handles = [];
      for (let i = 0; i < 4; i++) handles.push(await tasks.trigger("packet-buffered", { body, i }));
      const buffered: string[] = [];
      for (const handle of handles) {
        if ((await api(server, "GET", `/api/v3/runs/${handle.id}`)).body.isBuffered) buffered.push(handle.id);
      }
      expect(buffered.length).toBeGreaterThan(0);
      const retrieved = await runs.retrieve(buffered[0]!);
      expect(retrieved.payload).toEqual({ body, i: handles.findIndex((h) => h.id === buffered[0]) });

      await server.kill();
      await server.restart({ MOLLIFIER_DRAINER_ENABLED: "true" });
      running = await worker.startWorker({
        apiUrl: server.baseUrl,
        secretKey: server.devSecretKey,
        tasks: [worker.task({ id: "packet-buffered", run: async (p: { body: string; i: number }) => ({ same: p.body === body, i: p.i }) })],
        concurrency: 4,
        pollWaitMs: 1_000,
        logLevel: "error",
      });
      for (const id of buffered) {
        const done = await waitFor(async () => {
          const run = await runs.retrieve(id);
          return run.status === "COMPLETED" ? run : undefined;
        }, 60_000, `buffered run ${id}`);
        expect((done.output as { same: boolean }).same).toBe(true);
      }
    } finally {
      await running?.stop();
      await server.stop();
    }
  }, 180_000);
});
