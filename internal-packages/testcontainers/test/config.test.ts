import { expect, it } from "vitest";
import { testSplitModeFromEnv } from "../src/index.js";

it("RUNPLANE_TEST_SPLIT: 1/true → split only, 0/false → single only, unset → the suite's default", () => {
  expect(testSplitModeFromEnv(undefined)).toBeUndefined();
  expect(testSplitModeFromEnv(" ")).toBeUndefined();
  expect(testSplitModeFromEnv("1")).toBe(true);
  expect(testSplitModeFromEnv("TRUE")).toBe(true);
  expect(testSplitModeFromEnv("0")).toBe(false);
  expect(testSplitModeFromEnv("false")).toBe(false);
  expect(() => testSplitModeFromEnv("yes please")).toThrow(/RUNPLANE_TEST_SPLIT/);
});
