import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { scanImportBoundary, violationsIn } from "./importBoundary.js";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

describe("run-table import boundary", () => {
  it("no file outside run-store and the database packages imports a run-table client", async () => {
    const { scanned, violations } = await scanImportBoundary(REPO_ROOT);
    expect(scanned).toContain("packages/core/src/index.ts");
    expect(scanned.some((file) => file.startsWith("internal-packages/run-store/"))).toBe(false);
    const report = violations.map((v) => `${v.file}:${v.line} imports ${v.specifier}`);
    expect(report, "only @internal/run-store may touch run tables; go through RunStore").toEqual([]);
  });

  it("names every kind of forbidden import, with its file and line", async () => {
    const root = await mkdtemp(path.join(tmpdir(), "boundary-"));
    try {
      await mkdir(path.join(root, "apps/webapp/app"), { recursive: true });
      await mkdir(path.join(root, "internal-packages/run-store/src"), { recursive: true });
      await writeFile(
        path.join(root, "apps/webapp/app/bad.tsx"),
        [
          'import { createRunOpsClient } from "@internal/run-ops-database";',
          'export { LegacyRunTables } from "@internal/database/runTables";',
          'const lazy = await import("../../../internal-packages/database/src/generated/prisma/client.js");',
          "// import { x } from \"@internal/run-ops-database\"; (a comment is fine)",
          'import { ControlPlaneClient } from "@internal/database";',
          'const url = "postgresql://localhost/db"; import "@internal/run-ops-database/extra";',
        ].join("\n")
      );
      await writeFile(
        path.join(root, "internal-packages/run-store/src/ok.ts"),
        'import { RunOpsClient } from "@internal/run-ops-database";\n'
      );

      const { violations } = await scanImportBoundary(root);
      expect(violations).toEqual([
        { file: "apps/webapp/app/bad.tsx", line: 1, specifier: "@internal/run-ops-database" },
        { file: "apps/webapp/app/bad.tsx", line: 2, specifier: "@internal/database/runTables" },
        { file: "apps/webapp/app/bad.tsx", line: 3, specifier: "../../../internal-packages/database/src/generated/prisma/client.js" },
        { file: "apps/webapp/app/bad.tsx", line: 6, specifier: "@internal/run-ops-database/extra" },
      ]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it("allows the control-plane entry points and unrelated generated folders", () => {
    const source = [
      'import { ControlPlaneClient } from "@internal/database";',
      'import { PrismaControlPlaneResolver } from "@internal/database/resolver";',
      'import { RunStore } from "@internal/run-store";',
      'import { thing } from "./generated/openapi/client.js";',
    ].join("\n");
    expect(violationsIn("x.ts", source)).toEqual([]);
  });
});
