import { fingerprintDatabase, type DatabaseFingerprint, type FingerprintProbe } from "./databaseFingerprint.server";

export type DistinctVerdict =
  | { distinct: true; controlPlane: DatabaseFingerprint; runOps: DatabaseFingerprint }
  | { distinct: false; reason: string };

function describe(fp: DatabaseFingerprint): string {
  return `system identifier ${fp.systemIdentifier}, database "${fp.databaseName}" (oid ${fp.databaseOid})`;
}

/**
 * Probes both URLs in parallel. Same fingerprint ⇒ not distinct; a probe that fails ⇒ not distinct
 * (fail closed: a split onto one database would lose the residency guarantees silently).
 * Never decides from the URL strings: `localhost` and `127.0.0.1` may well be one server.
 */
export async function probeDistinctDatabases(
  controlPlaneUrl: string,
  runOpsUrl: string,
  probe: FingerprintProbe = (url) => fingerprintDatabase(url)
): Promise<DistinctVerdict> {
  const [controlPlane, runOps] = await Promise.allSettled([probe(controlPlaneUrl), probe(runOpsUrl)]);
  const failures: string[] = [];
  if (controlPlane.status === "rejected") failures.push(`DATABASE_URL: ${errorMessage(controlPlane.reason)}`);
  if (runOps.status === "rejected") failures.push(`RUN_OPS_DATABASE_URL: ${errorMessage(runOps.reason)}`);
  if (controlPlane.status === "rejected" || runOps.status === "rejected") {
    return { distinct: false, reason: `the distinct-database probe failed (${failures.join("; ")}); failing closed` };
  }
  const a = controlPlane.value;
  const b = runOps.value;
  if (a.systemIdentifier === b.systemIdentifier && a.databaseName === b.databaseName && a.databaseOid === b.databaseOid) {
    return { distinct: false, reason: `DATABASE_URL and RUN_OPS_DATABASE_URL reach the same physical database (${describe(a)})` };
  }
  return { distinct: true, controlPlane: a, runOps: b };
}

function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
