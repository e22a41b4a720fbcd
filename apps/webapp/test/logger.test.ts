import { describe, expect, it } from "vitest";
import { createLogger, type LogLevel } from "~/services/logger.server";

function capture(level: LogLevel) {
  const lines: { level: LogLevel; entry: Record<string, unknown> }[] = [];
  const logger = createLogger({ level, fields: { service: "test" }, sink: (l, line) => lines.push({ level: l, entry: JSON.parse(line) }) });
  return { logger, lines };
}

describe("logger", () => {
  it("writes one JSON object per line with time, level, message and fields", () => {
    const { logger, lines } = capture("info");
    logger.info("hello", { runId: "run_1" });
    expect(lines).toHaveLength(1);
    expect(lines[0].entry).toMatchObject({ level: "info", message: "hello", service: "test", runId: "run_1" });
    expect(new Date(lines[0].entry.time as string).getTime()).not.toBeNaN();
  });

  it("drops entries below its level", () => {
    const { logger, lines } = capture("warn");
    logger.debug("d");
    logger.info("i");
    logger.warn("w");
    logger.error("e");
    expect(lines.map((l) => l.entry.message)).toEqual(["w", "e"]);
    expect(logger.isEnabled("info")).toBe(false);
  });

  it("setLevel applies to the parent and every child", () => {
    const { logger, lines } = capture("info");
    const child = logger.child({ component: "c" });
    logger.setLevel("error");
    child.warn("hidden");
    child.setLevel("debug");
    logger.debug("shown");
    expect(lines.map((l) => l.entry.message)).toEqual(["shown"]);
  });

  it("child loggers carry their fields and keep the parent's", () => {
    const { logger, lines } = capture("debug");
    const child = logger.child({ component: "drainer" }).child({ orgId: "org_1" });
    child.debug("tick", { popped: 3 });
    logger.info("parent");
    expect(lines[0].entry).toMatchObject({ service: "test", component: "drainer", orgId: "org_1", popped: 3 });
    expect(lines[1].entry).not.toHaveProperty("component");
  });

  it("redacts secret-looking fields and serialises errors", () => {
    const { logger, lines } = capture("info");
    logger.error("failed", { apiKey: "tr_dev_x", password: "p", nested: { sessionSecret: "s" }, error: new Error("boom") });
    const entry = lines[0].entry as Record<string, any>;
    expect(entry.apiKey).toBe("[redacted]");
    expect(entry.password).toBe("[redacted]");
    expect(entry.nested.sessionSecret).toBe("[redacted]");
    expect(entry.error).toMatchObject({ name: "Error", message: "boom" });
  });
});
