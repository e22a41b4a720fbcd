import { afterEach, describe, expect, it } from "vitest";
import { jsonOfSize, ratesFromMax, repeatRuns, runClosedLoop, runOpenLoop, type ResponseInfo } from "../src/load/index.js";
import { sleep, startServer } from "./helpers.js";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

describe("open loop", () => {
  it("keeps the intended rate against a slow (but concurrent) server", async () => {
    const srv = await startServer(async (_req, _body, res) => {
      await sleep(40);
      res.writeHead(200, { "content-type": "application/json" }).end('{"id":"run_1"}');
    });
    closers.push(srv.close);
    // 200/s × 40 ms ≈ 8 in flight; 20 connections leave headroom.
    const r = await runOpenLoop({ url: srv.url + "/trigger", rate: 200, durationMs: 1500, connections: 20 });
    expect(r.mode).toBe("open");
    expect(r.targetRate).toBe(200);
    expect(r.sent).toBe(300);
    expect(r.ok).toBe(300);
    expect(r.notSent).toBe(0);
    expect(r.errorRate).toBe(0);
    // Requests left on schedule: small send lag, and the send rate matches the target.
    expect(r.sendLag!.p90).toBeLessThan(15);
    expect(r.sentPerSec).toBeGreaterThan(150);
    expect(r.sentPerSec).toBeLessThan(210);
    expect(r.latency.p50).toBeGreaterThanOrEqual(39);
    expect(r.latency.p50).toBeLessThan(90);
    // Per-second series: the first full second carries ~200 sends.
    expect(r.timeSeries[0].sent).toBeGreaterThan(185);
    expect(r.timeSeries[0].sent).toBeLessThanOrEqual(201);
    expect(r.timeSeries.reduce((a, p) => a + p.ok, 0)).toBe(300);
  });

  it("reports coordinated-omission-corrected latency when the server falls behind", async () => {
    // A server that serves one request at a time, 20 ms each: capacity 50/s.
    let chain = Promise.resolve();
    const srv = await startServer((_req, _body, res) => {
      chain = chain.then(async () => {
        await sleep(20);
        res.writeHead(200).end("ok");
      });
    });
    closers.push(srv.close);
    // Intended: 100/s for 1 s over one connection → the schedule slips by ~1 s by the end.
    const open = await runOpenLoop({ url: srv.url, rate: 100, requests: 100, connections: 1 });
    expect(open.sent).toBe(100);
    expect(open.ok).toBe(100);
    // What a naive (closed-loop) tool sees: ~20 ms per request.
    expect(open.serviceLatency.p50).toBeLessThan(45);
    // Corrected latency counts the wait for the intended send time: the last requests were due
    // at ~1 s but finish at ~2 s.
    expect(open.latency.p50).toBeGreaterThan(300);
    expect(open.latency.p99).toBeGreaterThan(700);
    expect(open.latency.max).toBeGreaterThan(open.serviceLatency.max * 5);
    expect(open.sendLag!.max).toBeGreaterThan(700);
    // Throughput measured is the server's capacity, not the target.
    expect(open.acceptedPerSec).toBeLessThan(60);

    // The same server under a closed loop reports only service time.
    const closed = await runClosedLoop({ url: srv.url, connections: 1, requests: 20 });
    expect(closed.latency.p99).toBeLessThan(60);
  });

  it("counts warm-up apart, tags, statuses and cut-off stragglers", async () => {
    const srv = await startServer((req, _body, res) => {
      if (req.url === "/hang") return; // never answers
      if (req.url === "/busy") return void res.writeHead(429).end();
      res.writeHead(200).end();
    });
    closers.push(srv.close);
    const seen: ResponseInfo[] = [];
    const r = await runOpenLoop({
      url: srv.url,
      rate: 100,
      warmupMs: 200, // 20 warm-up requests
      requests: 40,
      connections: 10,
      maxInFlight: 10,
      drainTimeoutMs: 300,
      request: (i) => ({ path: i >= 20 && i % 10 === 0 ? "/hang" : i % 4 === 0 ? "/busy" : "/", tag: i % 2 ? "odd" : "even" }),
      onResponse: (info) => seen.push(info),
    });
    expect(seen.filter((s) => s.warmup)).toHaveLength(20);
    // 4 of the 40 measured requests hang (i = 20, 30, 40, 50) and are cut off by the drain timeout.
    expect(r.sent).toBe(40);
    expect(r.abandoned).toBe(4);
    expect(r.completed).toBe(36);
    // i % 4 === 0 among 20..59, less the hanging ones: 24, 28, 32, 36, 44, 48, 52, 56.
    expect(r.non2xx["429"]).toBe(8);
    expect(r.ok + (r.non2xx["429"] ?? 0)).toBe(36);
    expect(Object.keys(r.byTag).sort()).toEqual(["even", "odd"]);
    expect(r.byTag.odd.ok).toBe(20);
  });
});

describe("closed loop", () => {
  it("runs N connections for a request count with unique bodies and reports errors", async () => {
    const keys = new Set<string>();
    let active = 0;
    let peak = 0;
    const srv = await startServer(async (_req, body, res) => {
      active++;
      peak = Math.max(peak, active);
      const j = JSON.parse(body) as { options: { idempotencyKey: string } };
      keys.add(j.options.idempotencyKey);
      await sleep(2);
      active--;
      res.writeHead(j.options.idempotencyKey.endsWith("7") ? 503 : 200).end();
    });
    closers.push(srv.close);
    const r = await runClosedLoop({
      url: srv.url + "/api/v1/tasks/hello/trigger",
      connections: 8,
      requests: 200,
      request: (i) => ({
        headers: { authorization: "Bearer tr_dev_x" },
        body: jsonOfSize(1024, { payload: { i }, options: { idempotencyKey: `k-${i}` } }),
      }),
    });
    expect(r.sent).toBe(200);
    expect(r.completed).toBe(200);
    expect(keys.size).toBe(200);
    expect(peak).toBeLessThanOrEqual(8);
    expect(peak).toBeGreaterThan(1);
    expect(r.non2xx["503"]).toBe(20);
    expect(r.ok).toBe(180);
    expect(r.errorRate).toBeCloseTo(0.1, 5);
    expect(r.acceptedPerSec).toBeGreaterThan(0);
  });

  it("counts connection failures as errors and honours a duration", async () => {
    const srv = await startServer((_req, _body, res) => void res.writeHead(200).end());
    const url = srv.url;
    await srv.close();
    const r = await runClosedLoop({ url, connections: 2, durationMs: 200, timeoutMs: 500 });
    expect(r.ok).toBe(0);
    expect(r.completed).toBeGreaterThan(0);
    expect(Object.keys(r.errors)).toContain("ECONNREFUSED");
    expect(r.elapsedMs).toBeGreaterThanOrEqual(200);
  });
});

describe("response bodies", () => {
  it("passes body text and epoch timestamps to onResponse when readBody is set", async () => {
    const srv = await startServer((req, _body, res) => void res.writeHead(200).end(JSON.stringify({ id: `run_${req.url!.slice(1)}` })));
    closers.push(srv.close);
    const seen: ResponseInfo[] = [];
    const before = Date.now();
    await runClosedLoop({ url: srv.url, connections: 2, requests: 10, readBody: true, request: (i) => ({ path: `/${i}` }), onResponse: (r) => seen.push(r) });
    expect(seen).toHaveLength(10);
    expect(new Set(seen.map((r) => (JSON.parse(r.body!) as { id: string }).id)).size).toBe(10);
    for (const r of seen) {
      expect(r.sentAt).toBeGreaterThanOrEqual(before - 5);
      expect(r.doneAt).toBeGreaterThanOrEqual(r.sentAt);
      expect(r.doneAt).toBeLessThanOrEqual(Date.now() + 5);
    }
  });
});

describe("helpers", () => {
  it("jsonOfSize and ratesFromMax", () => {
    expect(JSON.stringify(jsonOfSize(1024, { payload: { i: 1 } })).length).toBe(1024);
    expect(ratesFromMax(1000)).toEqual([250, 500, 750, 900]);
  });
});

describe("repeatRuns", () => {
  it("drops warm-up runs", async () => {
    const seen: number[] = [];
    const out = await repeatRuns(3, async (i) => (seen.push(i), i * 10), { warmupRuns: 2 });
    expect(seen).toEqual([-2, -1, 0, 1, 2]);
    expect(out).toEqual([0, 10, 20]);
  });
});
