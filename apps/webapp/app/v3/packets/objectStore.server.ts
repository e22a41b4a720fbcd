import type { Residency } from "@runplane/core";

/** Payload and output limit, as trigger.dev's: 10 MiB per packet. */
export const MAX_PACKET_BYTES = 10 * 1024 * 1024;

export type PacketObject = { data: Buffer; contentType: string };

/** Where an object is written: the environment it belongs to, and the database family of its run. */
export type PacketPlacement = { environmentId: string; residency: Residency };

/**
 * Where offloaded payloads and outputs live. Keys are `<environmentId>/<path>`, so one environment can
 * never name another's packets. Two implementations: Postgres chunks (default) and S3.
 */
export interface ObjectStore {
  readonly kind: "postgres" | "s3";
  put(key: string, object: PacketObject, placement: PacketPlacement): Promise<void>;
  get(key: string): Promise<PacketObject | null>;
  /** Deletes every object of the environments (environment or project deletion). Returns objects removed. */
  deleteEnvironments(environmentIds: string[]): Promise<number>;
  /** Deletes every object written before `before` (retention, as the run events'). Returns objects removed. */
  deleteOlderThan(before: Date): Promise<number>;
  close(): Promise<void>;
}

export function packetKey(environmentId: string, path: string): string {
  return `${environmentId}/${path}`;
}
