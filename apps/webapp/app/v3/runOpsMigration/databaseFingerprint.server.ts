import pg from "pg";

/** What identifies one physical database: the cluster's system identifier, the database name and oid. */
export type DatabaseFingerprint = { systemIdentifier: string; databaseName: string; databaseOid: string };

export type FingerprintProbe = (databaseUrl: string) => Promise<DatabaseFingerprint>;

// A streaming replica or a pooler in front of the same primary reports the same system identifier,
// so pointing the second URL at one of those is recognised as the same database.
const FINGERPRINT_SQL = `
SELECT system_identifier::text AS system_identifier,
       current_database() AS database_name,
       (SELECT oid::text FROM pg_database WHERE datname = current_database()) AS database_oid
FROM pg_control_system()`;

/** Opens a throwaway connection and reads the fingerprint. Throws on any failure. */
export async function fingerprintDatabase(databaseUrl: string, timeoutMs = 5_000): Promise<DatabaseFingerprint> {
  const client = new pg.Client({
    connectionString: databaseUrl,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    application_name: "runplane-split-sentinel",
  });
  client.on("error", () => {}); // a dropped connection surfaces through the awaited calls below
  try {
    await client.connect();
    const { rows } = await client.query<{ system_identifier: string; database_name: string; database_oid: string }>(
      FINGERPRINT_SQL
    );
    const row = rows[0];
    if (!row?.system_identifier || !row.database_name || !row.database_oid) {
      throw new Error("pg_control_system() returned no row");
    }
    return { systemIdentifier: row.system_identifier, databaseName: row.database_name, databaseOid: row.database_oid };
  } finally {
    await client.end().catch(() => {});
  }
}
