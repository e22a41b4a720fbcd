import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";

// Drift guard for the cross-seam guard: every place the engine completes a waitpoint says which unblock
// route it is (RUN / BATCH / DATETIME / TOKEN) and who owns the waitpoint, so the guard can go to the
// waitpoint's home database. A new completion site fails this test until it is catalogued here.
//   DERIVED: the owner is read from the stored row (hintFromWaitpoint).
//   PASSTHROUGH: the sink forwards its caller's hint.
//   UNHINTED: the public API (a token id from a request); the guard probes both databases, refuses a
//             waitpoint present in both and checks the row's owner against where it was found.
const CATALOGUE: Record<string, string[]> = {
  "engine/runEngine.ts": ["UNHINTED"],
  "engine/attempts.ts": ["RUN"],
  "engine/finishing.ts": ["RUN"],
  "engine/preMaterialised.ts": ["RUN"],
  "waitpoints/waitpointSystem.ts": ["DATETIME", "DERIVED", "PASSTHROUGH", "RUN"],
  "batches/batchSystem.ts": ["BATCH"],
};

const srcDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../src");

/** The argument text of the call whose "(" is at `open`. */
function callArguments(source: string, open: number): string {
  let depth = 0;
  for (let i = open; i < source.length; i++) {
    if (source[i] === "(") depth++;
    else if (source[i] === ")" && --depth === 0) return source.slice(open + 1, i);
  }
  throw new Error("unbalanced call");
}

function classify(args: string): string {
  const route = /route:\s*"(\w+)"/.exec(args);
  if (route) return route[1];
  if (args.includes("hintFromWaitpoint(")) return "DERIVED";
  if (/,\s*hint\s*$/.test(args.trim())) return "PASSTHROUGH";
  return "UNHINTED";
}

test("every engine completion site names its unblock route (catalogue matches the source)", async () => {
  for (const [file, expected] of Object.entries(CATALOGUE)) {
    const source = await readFile(path.join(srcDir, file), "utf8");
    const found: string[] = [];
    for (const match of source.matchAll(/(async\s+)?\b(completeWaitpoint|completeWaitpointRows)\s*\(/g)) {
      if (match[1]) continue; // a declaration, not a call
      found.push(classify(callArguments(source, match.index! + match[0].length - 1)));
    }
    expect({ file, sites: found.sort() }).toEqual({ file, sites: [...expected].sort() });
  }
});
