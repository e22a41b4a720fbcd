import { NotFoundError, PayloadTooLargeError, ValidationError, fromFriendlyId, type MintKind, type Residency } from "@runplane/core";
import { decodePacketPath } from "@runplane/core/schemas";
import type { RunStore } from "@internal/run-store";
import { MAX_PACKET_BYTES, packetKey, type ObjectStore, type PacketObject } from "./objectStore.server";
import type { PacketUrlSigner } from "./packetUrls.server";

export const STORE_PACKET_TYPE = "application/store";
export const PACKET_TOO_LARGE_MESSAGE = `Packet too large: payloads and outputs are limited to ${MAX_PACKET_BYTES / (1024 * 1024)} MiB`;

export type PacketServiceDeps = { store: ObjectStore; signer: PacketUrlSigner; runStore: RunStore; mintKind: MintKind };

/** The run fields a packet URL is derived from. */
export type PacketRun = {
  runtimeEnvironmentId: string;
  payload: string;
  payloadType: string;
  output: string | null;
  outputType: string;
};

/**
 * Offloaded payloads and outputs: hands out signed upload and download URLs scoped to an environment,
 * and stores or serves the bytes behind them.
 */
export class PacketService {
  constructor(private readonly deps: PacketServiceDeps) {}

  get signer(): PacketUrlSigner {
    return this.deps.signer;
  }

  get storeKind(): ObjectStore["kind"] {
    return this.deps.store.kind;
  }

  /** `PUT /api/v{1,2}/packets/{path}`: where to upload, and the path to trigger with. */
  uploadUrl(environmentId: string, rawPath: string): { presignedUrl: string; storagePath: string } {
    const path = requirePath(rawPath);
    return { presignedUrl: this.deps.signer.url("put", packetKey(environmentId, path), this.#residencyFor(path)), storagePath: path };
  }

  /** `GET /api/v1/packets/{path}`: where to download. */
  downloadUrl(environmentId: string, rawPath: string): { presignedUrl: string } {
    const path = requirePath(rawPath);
    return { presignedUrl: this.deps.signer.url("get", packetKey(environmentId, path), this.#residencyFor(path)) };
  }

  /** The download URL of a run's offloaded payload or output; undefined when that field is inline. */
  runPacketUrl(run: PacketRun, field: "payload" | "output"): string | undefined {
    const [data, type] = field === "payload" ? [run.payload, run.payloadType] : [run.output, run.outputType];
    if (!data || !type.startsWith(STORE_PACKET_TYPE) || !decodePacketPath(encodeURIComponent(data))) return undefined;
    return this.downloadUrl(run.runtimeEnvironmentId, data).presignedUrl;
  }

  /** Same, for the run packet route: absent → 404 (the SDK then falls back to the path route). */
  requireRunPacketUrl(run: PacketRun, field: "payload" | "output"): { presignedUrl: string } {
    const presignedUrl = this.runPacketUrl(run, field);
    if (!presignedUrl) throw new NotFoundError(`This run's ${field} is not an offloaded packet`);
    return { presignedUrl };
  }

  async put(key: string, residency: Residency, object: PacketObject): Promise<void> {
    if (object.data.length > MAX_PACKET_BYTES) throw new PayloadTooLargeError(PACKET_TOO_LARGE_MESSAGE);
    const environmentId = key.slice(0, key.indexOf("/"));
    await this.deps.store.put(key, object, { environmentId, residency });
  }

  /** The packet, or null when absent. */
  find(key: string): Promise<PacketObject | null> {
    return this.deps.store.get(key);
  }

  async get(key: string): Promise<PacketObject> {
    const object = await this.deps.store.get(key);
    if (!object) throw new NotFoundError("Packet not found");
    return object;
  }

  /** Packets follow the run events' retention: those written more than `retentionDays` ago go. */
  expire(now: Date, retentionDays: number): Promise<number> {
    return this.deps.store.deleteOlderThan(new Date(now.getTime() - retentionDays * 86_400_000));
  }

  deleteEnvironments(environmentIds: string[]): Promise<number> {
    return this.deps.store.deleteEnvironments(environmentIds);
  }

  close(): Promise<void> {
    return this.deps.store.close();
  }

  /** A run's packets sit beside the run: the path's first segment names the run when the runtime wrote it. */
  #residencyFor(path: string): Residency {
    const first = path.split("/")[0]!;
    if (first.startsWith("run_")) return this.deps.runStore.residencyOf(fromFriendlyId(first, "run"));
    return this.deps.runStore.splitEnabled ? this.deps.mintKind : "LEGACY";
  }
}

function requirePath(raw: string): string {
  const path = decodePacketPath(encodeURIComponent(raw));
  if (!path) throw new ValidationError("Invalid packet path");
  return path;
}
