// Offloaded payloads and outputs in Postgres: chunked `bytea` rows (PacketChunk) in the database that
// holds the run, so packets follow the split. A packet is written whole in one transaction (old chunks
// replaced), and read back only when every chunk is there.
import type { Residency } from "@runplane/core";
import type { RunStore } from "./runStore.js";
import type { RunTablesClient } from "./types.js";

/** Rows of at most 1 MiB: Postgres handles them well and a 10 MiB packet is ten rows. */
export const PACKET_CHUNK_BYTES = 1024 * 1024;

export type StoredPacket = { data: Buffer; contentType: string };

/**
 * Writes a packet. `residency` picks the database: the run's own (its id's family) when the run is
 * known, else where new runs of the environment are written.
 */
export async function writePacket(
  store: RunStore,
  input: { key: string; environmentId: string; contentType: string; data: Buffer; residency: Residency }
): Promise<void> {
  const client = store.router.client(input.residency);
  const chunkCount = Math.max(1, Math.ceil(input.data.length / PACKET_CHUNK_BYTES));
  await client.$transaction(async (tx) => {
    await tx.packetChunk.deleteMany({ where: { key: input.key } });
    for (let seq = 0; seq < chunkCount; seq++) {
      await tx.packetChunk.create({
        data: {
          key: input.key,
          seq,
          environmentId: input.environmentId,
          contentType: input.contentType,
          chunkCount,
          data: new Uint8Array(input.data.subarray(seq * PACKET_CHUNK_BYTES, (seq + 1) * PACKET_CHUNK_BYTES)),
        },
      });
    }
  });
}

/** Reads a packet from whichever database holds it (run-ops first); null when absent or incomplete. */
export async function readPacket(store: RunStore, key: string): Promise<StoredPacket | null> {
  for (const client of store.allClients()) {
    const chunks = await client.packetChunk.findMany({ where: { key }, orderBy: { seq: "asc" } });
    if (chunks.length === 0) continue;
    if (chunks.length !== chunks[0]!.chunkCount) return null;
    return { data: Buffer.concat(chunks.map((chunk) => Buffer.from(chunk.data))), contentType: chunks[0]!.contentType };
  }
  return null;
}

/** Whether a packet exists, without reading its bytes. */
export async function packetExists(store: RunStore, key: string): Promise<boolean> {
  for (const client of store.allClients()) {
    if (await client.packetChunk.findFirst({ where: { key, seq: 0 }, select: { seq: true } })) return true;
  }
  return false;
}

/** Deletes every packet of the environments, in every database. Returns chunks deleted. */
export async function deleteEnvironmentPackets(store: RunStore, environmentIds: string[]): Promise<number> {
  let deleted = 0;
  for (const client of store.allClients()) deleted += await deleteWhere(client, { environmentId: { in: environmentIds } });
  return deleted;
}

/** Deletes packets written before `before` (retention), in every database. Returns chunks deleted. */
export async function deletePacketsOlderThan(store: RunStore, before: Date): Promise<number> {
  let deleted = 0;
  for (const client of store.allClients()) deleted += await deleteWhere(client, { createdAt: { lt: before } });
  return deleted;
}

async function deleteWhere(
  client: RunTablesClient,
  where: { environmentId: { in: string[] } } | { createdAt: { lt: Date } }
): Promise<number> {
  return (await client.packetChunk.deleteMany({ where })).count;
}
