import { packetStore, type RunStore } from "@internal/run-store";
import type { ObjectStore, PacketObject, PacketPlacement } from "./objectStore.server";

/** The embedded store: chunked bytea rows in the database that holds (or will hold) the run. */
export class PostgresObjectStore implements ObjectStore {
  readonly kind = "postgres";
  constructor(private readonly runStore: RunStore) {}

  put(key: string, object: PacketObject, placement: PacketPlacement): Promise<void> {
    return packetStore.writePacket(this.runStore, { key, ...placement, ...object });
  }

  get(key: string): Promise<PacketObject | null> {
    return packetStore.readPacket(this.runStore, key);
  }

  deleteEnvironments(environmentIds: string[]): Promise<number> {
    return packetStore.deleteEnvironmentPackets(this.runStore, environmentIds);
  }

  deleteOlderThan(before: Date): Promise<number> {
    return packetStore.deletePacketsOlderThan(this.runStore, before);
  }

  async close(): Promise<void> {}
}
