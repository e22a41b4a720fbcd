import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatStat, formatTable, summarize, writeResultsJson } from "../src/table.js";

describe("tables", () => {
  it("summarises median and range", () => {
    expect(summarize([5, 1, 3])).toEqual({ n: 3, median: 3, min: 1, max: 5 });
    expect(summarize([4, 1, 3, 2]).median).toBe(2.5);
    expect(formatStat(summarize([10_100, 9_900, 10_400]), 0)).toBe("10100 (9900–10400)");
    expect(formatStat(summarize([1.234]), 2)).toBe("1.23");
    expect(formatStat(summarize([]))).toBe("–");
  });

  it("aligns columns: text left, numbers right", () => {
    const out = formatTable(
      [
        { header: "arm", value: (r: { a: string; n: number }) => r.a },
        { header: "req/s", value: (r) => r.n, digits: 0 },
      ],
      [
        { a: "off", n: 10234 },
        { a: "mollifier on", n: 987 },
      ],
    );
    expect(out.split("\n")).toEqual([
      "arm           req/s",
      "------------  -----",
      "off           10234",
      "mollifier on    987",
    ]);
  });

  it("writes JSON with metadata", () => {
    const dir = mkdtempSync(join(tmpdir(), "bench-kit-json-"));
    const path = writeResultsJson("b1 closed", { x: 1 }, dir);
    const j = JSON.parse(readFileSync(path, "utf8"));
    expect(path).toMatch(/b1_closed-.*\.json$/);
    expect(j.data).toEqual({ x: 1 });
    expect(j.meta.name).toBe("b1 closed");
    expect(j.meta.cpus).toBeGreaterThan(0);
  });
});
