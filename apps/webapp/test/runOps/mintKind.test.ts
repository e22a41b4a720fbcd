import { classifyResidency, fromFriendlyId, generateFriendlyId } from "@runplane/core";
import { describe, expect, it, vi } from "vitest";
import {
  decideRunIdMintKind,
  mintBatchFriendlyId,
  mintRunFriendlyId,
  mintSettings,
  parseFlagBoolean,
  resolveRunIdMintKind,
  type MintKindInput,
} from "~/v3/runOpsMigration/mintKind.server";

const NEW_PARENT = generateFriendlyId("run", "NEW");
const LEGACY_PARENT = generateFriendlyId("run", "LEGACY");
const NEW_BATCH = generateFriendlyId("batch", "NEW");
const LEGACY_BATCH = generateFriendlyId("batch", "LEGACY");

describe("resolveRunIdMintKind: roots", () => {
  // split, env default, org flag → kind
  const table: [boolean, boolean, unknown, "LEGACY" | "NEW", string][] = [
    [false, false, {}, "LEGACY", "split_off"],
    [false, true, {}, "LEGACY", "split_off"],
    [false, true, { runOpsMintNewIds: true }, "LEGACY", "split_off"],
    [false, false, { runOpsMintNewIds: true }, "LEGACY", "split_off"],
    [true, false, {}, "LEGACY", "env_default"],
    [true, true, {}, "NEW", "env_default"],
    [true, false, { runOpsMintNewIds: true }, "NEW", "org_flag"],
    [true, true, { runOpsMintNewIds: false }, "LEGACY", "org_flag"],
    [true, true, { runOpsMintNewIds: "false" }, "LEGACY", "org_flag"],
    [true, false, { runOpsMintNewIds: "TRUE " }, "NEW", "org_flag"],
    [true, false, { runOpsMintNewIds: 1 }, "NEW", "org_flag"],
    [true, true, { runOpsMintNewIds: 0 }, "LEGACY", "org_flag"],
    [true, true, { runOpsMintNewIds: "off" }, "LEGACY", "org_flag"],
    [true, true, { runOpsMintNewIds: null }, "NEW", "env_default"],
    [true, false, { otherFlag: true }, "LEGACY", "env_default"],
    [true, true, null, "NEW", "env_default"],
    [true, true, undefined, "NEW", "env_default"],
    [true, true, ["runOpsMintNewIds"], "NEW", "env_default"],
  ];
  it.each(table)("split=%s env=%s flags=%j → %s (%s)", (splitEnabled, mintNewIds, orgFeatureFlags, kind, reason) => {
    expect(decideRunIdMintKind({ splitEnabled, mintNewIds, orgFeatureFlags })).toEqual({ kind, reason });
  });

  it("a flag value that is not a boolean is ignored (env default) and reported, never truthy", () => {
    const onInvalidFlag = vi.fn();
    for (const value of ["maybe", 2, {}, "", "nope"]) {
      expect(resolveRunIdMintKind({ splitEnabled: true, mintNewIds: false, orgFeatureFlags: { runOpsMintNewIds: value } }, { onInvalidFlag })).toBe("LEGACY");
    }
    expect(onInvalidFlag).toHaveBeenCalledTimes(5);
    expect(onInvalidFlag).toHaveBeenCalledWith("maybe");
  });
});

describe("resolveRunIdMintKind: children, batches and batch items inherit their anchor", () => {
  const base = { splitEnabled: true };
  it.each([
    // env default, org flag, parent, batch → kind, reason
    [false, { runOpsMintNewIds: false }, NEW_PARENT, undefined, "NEW", "parent"],
    [true, { runOpsMintNewIds: true }, LEGACY_PARENT, undefined, "LEGACY", "parent"],
    [false, {}, undefined, NEW_BATCH, "NEW", "batch"],
    [true, {}, undefined, LEGACY_BATCH, "LEGACY", "batch"],
    [false, {}, NEW_PARENT, NEW_BATCH, "NEW", "parent"],
    [true, {}, LEGACY_PARENT, LEGACY_BATCH, "LEGACY", "parent"],
  ] as const)("env=%s flags=%j parent=%s batch=%s → %s", (mintNewIds, orgFeatureFlags, parentFriendlyId, batchFriendlyId, kind, reason) => {
    const input: MintKindInput = { ...base, mintNewIds, orgFeatureFlags, parentFriendlyId, batchFriendlyId };
    expect(decideRunIdMintKind(input)).toEqual({ kind, reason });
  });

  it("accepts internal ids as anchors too", () => {
    expect(resolveRunIdMintKind({ ...base, mintNewIds: false, parentFriendlyId: fromFriendlyId(NEW_PARENT) })).toBe("NEW");
  });

  it("refuses a batch item whose parent and batch live in different databases", () => {
    expect(() => decideRunIdMintKind({ ...base, mintNewIds: true, parentFriendlyId: LEGACY_PARENT, batchFriendlyId: NEW_BATCH })).toThrow(
      expect.objectContaining({ status: 422, code: "cross_seam_refused" })
    );
  });

  it("split off: LEGACY even under a NEW-shaped anchor", () => {
    expect(decideRunIdMintKind({ splitEnabled: false, mintNewIds: true, parentFriendlyId: NEW_PARENT })).toEqual({ kind: "LEGACY", reason: "split_off" });
  });
});

describe("minting helpers", () => {
  it("mint ids of the decided family", () => {
    const settings = mintSettings({ splitEnabled: true, mintKind: "NEW" });
    expect(settings).toEqual({ splitEnabled: true, mintNewIds: true });
    const run = mintRunFriendlyId({ ...settings });
    expect(run.startsWith("run_")).toBe(true);
    expect(classifyResidency(run)).toBe("NEW");
    expect(classifyResidency(mintRunFriendlyId({ ...settings, orgFeatureFlags: { runOpsMintNewIds: false } }))).toBe("LEGACY");
    const batch = mintBatchFriendlyId({ ...settings, parentFriendlyId: LEGACY_PARENT });
    expect(batch.startsWith("batch_")).toBe(true);
    expect(classifyResidency(batch)).toBe("LEGACY");
    expect(classifyResidency(mintRunFriendlyId({ splitEnabled: false, mintNewIds: true }))).toBe("LEGACY");
  });

  it("parseFlagBoolean", () => {
    expect(parseFlagBoolean(true)).toEqual({ value: true });
    expect(parseFlagBoolean(" No ")).toEqual({ value: false });
    expect(parseFlagBoolean(undefined)).toEqual({ value: undefined });
    expect(parseFlagBoolean("x")).toEqual({ value: undefined, invalid: "x" });
  });
});
