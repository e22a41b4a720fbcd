import { describe, expect, it } from "vitest";
import { CpuSampler, cpuPerRequest, descendantsOf, findPids, readProcStat } from "../src/cpu.js";
import { ProgressSampler, rateOf } from "../src/progress.js";
import { sleep } from "./helpers.js";

/** Spin until this process has used `ms` of CPU (not wall) time, so a busy box can't starve it. */
function burn(ms: number) {
  const start = process.cpuUsage();
  let x = 0;
  for (;;) {
    for (let i = 0; i < 10_000; i++) x += Math.sqrt(x + 1);
    const used = process.cpuUsage(start);
    if ((used.user + used.system) / 1000 >= ms) return x;
  }
}

describe("CPU sampling", () => {
  it("reads /proc stats and finds processes by comm and cmdline", () => {
    const me = readProcStat(process.pid)!;
    expect(me.pid).toBe(process.pid);
    expect(me.ticks).toBeGreaterThanOrEqual(0);
    expect(readProcStat(2 ** 30)).toBeNull();
    expect(findPids({ comm: me.comm })).toContain(process.pid);
    expect(findPids({ comm: /^no-such-process-name$/ })).toEqual([]);
    // cmdline is what the process shows now (process.title rewrites it, as postgres backends do)
    expect(findPids({ cmdline: process.title })).toContain(process.pid);
    expect(descendantsOf(process.ppid)).toContain(process.pid);
  });

  it("measures this process's CPU and per-request cost", async () => {
    const sampler = new CpuSampler({ groups: [{ name: "nothing", match: { comm: "no-such-proc" } }], intervalMs: 100 }).start();
    await sleep(50);
    burn(400);
    await sleep(150);
    const report = sampler.stop();
    const me = report.groups.loadgen;
    expect(me.cpuMs).toBeGreaterThan(350);
    expect(me.cpuMs).toBeLessThan(1500);
    expect(me.peakPercent).toBeGreaterThan(20);
    expect(report.groups.nothing.cpuMs).toBe(0);
    expect(report.samples.length).toBeGreaterThanOrEqual(3);
    expect(report.cores).toBeGreaterThanOrEqual(1);
    const per = cpuPerRequest(report, 100);
    expect(per.loadgen).toBeCloseTo(me.cpuMs / 100, 2);
    expect(per.total).toBeGreaterThanOrEqual(per.loadgen);
  });
});

describe("progress sampling", () => {
  it("records a time series, rates and waits for a condition", async () => {
    let rows = 0;
    const grow = setInterval(() => (rows += 10), 10); // ~1000 rows/s
    let calls = 0;
    const sampler = new ProgressSampler({
      intervalMs: 50,
      probes: {
        rows: async () => rows,
        flaky: () => {
          if (++calls % 2) throw new Error("x");
          return 1;
        },
      },
    }).start();
    const hit = await sampler.waitFor((v) => v.rows >= 300, 5000);
    clearInterval(grow);
    const points = await sampler.stop();
    expect(hit?.values.rows).toBeGreaterThanOrEqual(300);
    expect(points.length).toBeGreaterThanOrEqual(4);
    expect(sampler.errors).toBeGreaterThan(0);
    const rates = sampler.rate("rows");
    const mid = rates.slice(1, -1).map((p) => p.y);
    const avg = mid.reduce((a, b) => a + b, 0) / Math.max(1, mid.length);
    expect(avg).toBeGreaterThan(400);
    expect(avg).toBeLessThan(1500);
    expect(sampler.peak("rows")).toBe(rows);
    expect(await sampler.waitFor((v) => v.rows > 1e9, 50)).toBeNull();
    expect(rateOf([{ x: 0, y: 0 }, { x: 2, y: 10 }])).toEqual([{ x: 2, y: 5 }]);
  });
});
