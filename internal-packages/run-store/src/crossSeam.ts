// The cross-seam guard: for every way a waiting run gets unblocked (a run completing resumes its
// parent, a token is completed, a batch finishes, a datetime wait passes) it decides which database
// holds the waitpoint and which holds the waiting run, pins the pairs that legitimately straddle the
// two databases, and refuses the ones that would strand a run.
//
// The facts it rests on (see design.md and the run engine):
//   - waitpoint ids are always cuids, so a waitpoint's id says nothing about where it lives;
//   - a run-owned waitpoint lives beside its owner: RUN beside the run that completes it, DATETIME
//     beside the run that waits, BATCH beside its batch; a standalone token lives on the control plane;
//   - a blocking edge (TaskRunWaitpoint) and every snapshot live beside the waiting run;
//   - a run tree lives in one database: children, batches and batch items take their anchor's id shape.
import { classifyIdShape, fromFriendlyId, type Residency } from "@runplane/core";
import type { Waitpoint } from "@internal/run-ops-database";
import { CrossSeamGuardError } from "./errors.js";
import type { RunStore } from "./runStore.js";
import type { RunTablesClient } from "./types.js";

export const UNBLOCK_ROUTES = ["RUN", "BATCH", "DATETIME", "TOKEN"] as const;
/**
 * RUN: a run finished and completes its RUN waitpoint (resuming a parent, or an idempotent reuse).
 * BATCH: every item of a batch finished. DATETIME: a wait.for / wait.until passed.
 * TOKEN: a MANUAL waitpoint completed by the API or timed out.
 */
export type UnblockRoute = (typeof UNBLOCK_ROUTES)[number];

/** What the caller knows about the waitpoint it completes. */
export type WaitpointOwnerHint = {
  route: UnblockRoute;
  /**
   * RUN: the run whose completion completes it. BATCH: the batch. DATETIME: the waiting run.
   * TOKEN: the run a run-scoped token belongs to; absent for a standalone token.
   */
  ownerId?: string | null;
};

export type WaitpointHomeReason = "single_database" | "owner_run" | "owner_batch" | "standalone_token";

export type WaitpointHome = {
  residency: Residency;
  route: UnblockRoute;
  reason: WaitpointHomeReason;
  ownerId: string | null;
};

/** Why a waitpoint and its waiter may sit in different databases. */
export type CrossSeamPin =
  /** A standalone token lives on the control plane whatever the tree of the run waiting on it. */
  | "standalone_token"
  /** Another run's token: it stays beside the run it belongs to. */
  | "run_scoped_token"
  /** A RUN waitpoint of a run from another tree (idempotent reuse): it stays beside that run. */
  | "cross_tree_run";

export type UnblockDecision = {
  waitpoint: WaitpointHome;
  /** Where the waiting run, its snapshots and its blocking edge live. */
  waiter: Residency;
  crossSeam: boolean;
  pin?: CrossSeamPin;
};

function isUnblockRoute(route: unknown): route is UnblockRoute {
  return typeof route === "string" && (UNBLOCK_ROUTES as readonly string[]).includes(route);
}

/** Residency of an owner/run id by its shape; refuses an id whose shape no rule knows. */
function residencyOfOwner(id: string, what: string): Residency {
  const { residency, shape } = classifyIdShape(id);
  if (shape === null) {
    throw new CrossSeamGuardError(`Cross-seam guard: ${what} ${JSON.stringify(id)} has no known id shape, so the database holding it cannot be decided`);
  }
  return residency;
}

const bare = (id: string | null | undefined): string | null => (id ? fromFriendlyId(id) : null);

/**
 * Pure: the database that must hold a waitpoint. Split off ⇒ the one database (LEGACY) without
 * classifying anything. An unknown route, a missing owner on an owned route, or an owner id of no
 * known shape is refused (thrown) — there is no default database to guess.
 */
export function decideWaitpointHome(hint: WaitpointOwnerHint, context: { splitEnabled: boolean }): WaitpointHome {
  if (!isUnblockRoute(hint.route)) throw new CrossSeamGuardError(`Cross-seam guard: unknown unblock route ${JSON.stringify(hint.route)}`);
  const route = hint.route;
  const ownerId = bare(hint.ownerId);
  if (route !== "TOKEN" && !ownerId) {
    throw new CrossSeamGuardError(`Cross-seam guard: a ${route} waitpoint is owned by a ${route === "BATCH" ? "batch" : "run"}, and none was given`);
  }
  if (!context.splitEnabled) return { residency: "LEGACY", route, reason: "single_database", ownerId };
  switch (route) {
    case "TOKEN":
      return ownerId
        ? { residency: residencyOfOwner(ownerId, "token owner run"), route, reason: "owner_run", ownerId }
        : { residency: "LEGACY", route, reason: "standalone_token", ownerId: null };
    case "BATCH":
      return { residency: residencyOfOwner(ownerId!, "batch"), route, reason: "owner_batch", ownerId };
    case "RUN":
    case "DATETIME":
      return { residency: residencyOfOwner(ownerId!, "owner run"), route, reason: "owner_run", ownerId };
  }
}

/**
 * Pure: where the waitpoint and the waiting run live, and whether that pair may straddle the seam.
 * Allowed across the seam (pinned to the waitpoint's owner): a standalone token, another run's token,
 * the RUN waitpoint of a run from another tree. Refused: a DATETIME waitpoint of another run (it
 * belongs to the run that waits), and a BATCH waitpoint in another database than its waiter (a batch
 * is minted with its parent's shape, so the pair can only be split by a wrongly minted id).
 */
export function decideUnblock(
  input: { waitpoint: WaitpointOwnerHint; waiterRunId: string },
  context: { splitEnabled: boolean }
): UnblockDecision {
  const waitpoint = decideWaitpointHome(input.waitpoint, context);
  const waiterRunId = fromFriendlyId(input.waiterRunId, "run");
  if (waitpoint.route === "DATETIME" && waitpoint.ownerId !== waiterRunId) {
    throw new CrossSeamGuardError(
      `Cross-seam guard: a datetime waitpoint of run ${waitpoint.ownerId} cannot block run ${waiterRunId}; a datetime wait belongs to the run that waits`,
      422
    );
  }
  if (!context.splitEnabled) return { waitpoint, waiter: "LEGACY", crossSeam: false };
  const waiter = residencyOfOwner(waiterRunId, "waiting run");
  if (waiter === waitpoint.residency) return { waitpoint, waiter, crossSeam: false };
  switch (waitpoint.route) {
    case "TOKEN":
      return { waitpoint, waiter, crossSeam: true, pin: waitpoint.reason === "standalone_token" ? "standalone_token" : "run_scoped_token" };
    case "RUN":
      return { waitpoint, waiter, crossSeam: true, pin: "cross_tree_run" };
    default:
      throw new CrossSeamGuardError(
        `Cross-seam guard: run ${waiterRunId} (${waiter}) cannot wait on batch ${waitpoint.ownerId} (${waitpoint.residency}); ` +
          `a batch lives in the database of the run that waits on it`,
        422
      );
  }
}

/**
 * Pure: refuses a run, batch or batch item whose id shape differs from its anchor's (the parent run,
 * or the batch for a batch item): a run tree lives in one database. Ids are compared by shape only,
 * in either mode; an anchor of unknown shape is left to the caller's own lookup (it will not be found).
 */
export function assertInheritedResidency(input: { id: string; parentRunId?: string | null; batchId?: string | null; what?: string }): void {
  const child = classifyIdShape(fromFriendlyId(input.id));
  const anchors: [string, string | null | undefined][] = [
    ["parent run", input.parentRunId],
    ["batch", input.batchId],
  ];
  for (const [label, anchorId] of anchors) {
    if (!anchorId) continue;
    const anchor = classifyIdShape(fromFriendlyId(anchorId));
    if (anchor.shape === null) continue;
    if (child.residency !== anchor.residency) {
      throw new CrossSeamGuardError(
        `${input.what ?? "run"} ${input.id} has the ${child.residency} id shape but its ${label} ${anchorId} is ${anchor.residency}: ` +
          `a run tree lives in one database, so mint it with its ${label}'s id shape`,
        422
      );
    }
  }
}

/** The hint a stored waitpoint implies about itself (null when its owner is gone). */
export function hintFromWaitpoint(row: Pick<Waitpoint, "type" | "completedByTaskRunId" | "completedByBatchId" | "ownerRunId">): WaitpointOwnerHint | null {
  switch (row.type) {
    case "RUN":
      return row.completedByTaskRunId ? { route: "RUN", ownerId: row.completedByTaskRunId } : null;
    case "BATCH":
      return row.completedByBatchId ? { route: "BATCH", ownerId: row.completedByBatchId } : null;
    case "DATETIME":
      return row.ownerRunId ? { route: "DATETIME", ownerId: row.ownerRunId } : null;
    case "MANUAL":
      return { route: "TOKEN", ownerId: row.ownerRunId ?? null };
    default:
      return null;
  }
}

export type LocatedWaitpoint = {
  client: RunTablesClient;
  row: Waitpoint;
  /** The database it was found in. */
  residency: Residency;
  /** Where the guard says it must live (null when neither the caller nor the row tells). */
  home: WaitpointHome | null;
  /** Found outside its home: served where it is, and logged as an error. */
  misplaced: boolean;
};

const OTHER: Record<Residency, Residency> = { NEW: "LEGACY", LEGACY: "NEW" };

/**
 * Finds the one database holding a waitpoint, by the guard's decision instead of "whichever answers".
 * With a hint: its home first (one query), then the other database; a copy found only outside its home
 * is served where it is and logged as an error. Without a hint: both databases; a waitpoint present in
 * both is refused (completing one copy would leave the other's waiters blocked forever), otherwise the
 * row's own owner is checked against where it was found.
 */
export async function locateWaitpoint(store: RunStore, waitpointId: string, hint?: WaitpointOwnerHint): Promise<LocatedWaitpoint | null> {
  const router = store.router;
  if (!router.splitEnabled) {
    const client = router.client("LEGACY");
    const row = await client.waitpoint.findUnique({ where: { id: waitpointId } });
    const home: WaitpointHome | null = hint ? decideWaitpointHome(hint, { splitEnabled: false }) : null;
    return row ? { client, row, residency: "LEGACY", home, misplaced: false } : null;
  }

  if (hint) {
    const home = decideWaitpointHome(hint, { splitEnabled: true });
    const homeClient = router.client(home.residency);
    const row = await homeClient.waitpoint.findUnique({ where: { id: waitpointId } });
    if (row) return { client: homeClient, row, residency: home.residency, home, misplaced: false };
    const strayResidency = OTHER[home.residency];
    const strayClient = router.client(strayResidency);
    const stray = await strayClient.waitpoint.findUnique({ where: { id: waitpointId } });
    if (!stray) return null;
    router.log("error", "cross-seam guard: waitpoint found outside its home database", {
      waitpointId,
      route: home.route,
      ownerId: home.ownerId,
      home: home.residency,
      foundIn: strayResidency,
    });
    return { client: strayClient, row: stray, residency: strayResidency, home, misplaced: true };
  }

  const residencies: Residency[] = ["NEW", "LEGACY"];
  const copies = await Promise.all(
    residencies.map(async (residency) => {
      const client = router.client(residency);
      return { residency, client, row: await client.waitpoint.findUnique({ where: { id: waitpointId } }) };
    })
  );
  const present = copies.filter((c): c is { residency: Residency; client: RunTablesClient; row: Waitpoint } => c.row !== null);
  if (present.length > 1) {
    router.log("error", "cross-seam guard: waitpoint present in both databases", { waitpointId });
    throw new CrossSeamGuardError(`Cross-seam guard: waitpoint ${waitpointId} exists in both databases; refusing to pick one`);
  }
  const found = present[0];
  if (!found) return null;
  const derived = hintFromWaitpoint(found.row);
  let home: WaitpointHome | null = null;
  if (derived) {
    try {
      home = decideWaitpointHome(derived, { splitEnabled: true });
    } catch (error) {
      router.log("warn", "cross-seam guard: cannot decide a stored waitpoint's home", { waitpointId, error: String(error) });
    }
  }
  const misplaced = home !== null && home.residency !== found.residency;
  if (misplaced) {
    router.log("error", "cross-seam guard: waitpoint found outside its home database", {
      waitpointId,
      route: home!.route,
      ownerId: home!.ownerId,
      home: home!.residency,
      foundIn: found.residency,
    });
  }
  return { client: found.client, row: found.row, residency: found.residency, home, misplaced };
}
