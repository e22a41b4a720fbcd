import { readdir, readFile } from "node:fs/promises";
import path from "node:path";

/** Packages allowed to reach the run tables directly, relative to the repository root. */
export const RUN_TABLE_OWNERS = [
  "internal-packages/run-store",
  "internal-packages/run-ops-database",
  "internal-packages/database",
  "internal-packages/testcontainers",
];

const SKIPPED_DIRS = new Set(["node_modules", "generated", ".git", ".turbo", "dist", "build", "coverage"]);

export type BoundaryViolation = { file: string; line: number; specifier: string };

/** Why a module specifier crosses the run-table boundary, or null when it does not. */
export function forbiddenReason(specifier: string): string | null {
  if (specifier === "@internal/run-ops-database" || specifier.startsWith("@internal/run-ops-database/")) {
    return "the run-ops database client";
  }
  if (specifier === "@internal/database/runTables") return "the legacy run-tables client";
  if (specifier.startsWith(".") && /(^|\/)generated\/prisma(\/|$)/.test(specifier)) return "a generated Prisma client";
  return null;
}

// Comments are blanked (keeping line breaks) so a commented-out import is not a violation.
// `//` counts as a comment only at a line start or after whitespace, so URLs in strings survive.
function withoutComments(source: string): string {
  return source
    .replace(/\/\*[\s\S]*?\*\//g, (block) => block.replace(/[^\n]/g, " "))
    .replace(/(^|\s)\/\/.*$/gm, "$1");
}

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)["']([^"']+)["']/g;

export function violationsIn(file: string, source: string): BoundaryViolation[] {
  const code = withoutComments(source);
  const found: BoundaryViolation[] = [];
  for (const match of code.matchAll(SPECIFIER)) {
    if (!forbiddenReason(match[1])) continue;
    const line = code.slice(0, match.index).split("\n").length;
    found.push({ file, line, specifier: match[1] });
  }
  return found;
}

async function* sourceFiles(root: string, dir = root): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    const relative = path.relative(root, full).split(path.sep).join("/");
    if (entry.isDirectory()) {
      if (SKIPPED_DIRS.has(entry.name) || RUN_TABLE_OWNERS.includes(relative)) continue;
      yield* sourceFiles(root, full);
    } else if (entry.isFile() && /\.(ts|tsx|mts|cts)$/.test(entry.name)) {
      yield relative;
    }
  }
}

/** Scans every TypeScript file under `root` outside the run-table owners. */
export async function scanImportBoundary(root: string): Promise<{ scanned: string[]; violations: BoundaryViolation[] }> {
  const scanned: string[] = [];
  const violations: BoundaryViolation[] = [];
  for await (const file of sourceFiles(root)) {
    scanned.push(file);
    violations.push(...violationsIn(file, await readFile(path.join(root, file), "utf8")));
  }
  return { scanned, violations };
}
