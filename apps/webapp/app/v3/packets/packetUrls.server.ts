import { createHmac, timingSafeEqual } from "node:crypto";
import type { Residency } from "@runplane/core";

/** How long an upload or download URL stays valid. */
export const PACKET_URL_TTL_MS = 10 * 60 * 1000;

/** The path of the route that serves signed URLs (outside /api: the signature is the credential). */
export const PACKET_OBJECT_ROUTE = "/packet-objects";

export type PacketUrlOperation = "get" | "put";

export type SignedPacketRequest = { op: PacketUrlOperation; key: string; residency: Residency; expiresAt: number };

/**
 * Short-lived URLs for one packet and one operation, signed with HMAC-SHA256. The URL carries the key,
 * the operation, the placement (for uploads) and the expiry; the signature covers all four.
 */
export class PacketUrlSigner {
  readonly #secret: Buffer;

  constructor(
    secret: string,
    private readonly origin: string,
    private readonly now: () => number = Date.now
  ) {
    this.#secret = createHmac("sha256", secret).update("runplane:packet-urls").digest();
  }

  url(op: PacketUrlOperation, key: string, residency: Residency): string {
    const expiresAt = this.now() + PACKET_URL_TTL_MS;
    const query = new URLSearchParams({ op, rs: residency, exp: String(expiresAt), sig: this.#sign({ op, key, residency, expiresAt }) });
    return `${this.origin}${PACKET_OBJECT_ROUTE}/${encodeURIComponent(key)}?${query}`;
  }

  /** The request a URL grants, or a reason it grants nothing. */
  verify(key: string, params: URLSearchParams): { ok: true; request: SignedPacketRequest } | { ok: false; reason: string } {
    const op = params.get("op");
    const residency = params.get("rs");
    const expiresAt = Number(params.get("exp"));
    const signature = params.get("sig") ?? "";
    if ((op !== "get" && op !== "put") || (residency !== "NEW" && residency !== "LEGACY") || !Number.isFinite(expiresAt)) {
      return { ok: false, reason: "Malformed packet URL" };
    }
    const request = { op, key, residency, expiresAt } as const;
    const expected = Buffer.from(this.#sign(request));
    const given = Buffer.from(signature);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: "Invalid packet URL signature" };
    if (expiresAt < this.now()) return { ok: false, reason: "Packet URL expired" };
    return { ok: true, request };
  }

  #sign(request: SignedPacketRequest): string {
    return createHmac("sha256", this.#secret)
      .update(`${request.op}\n${request.key}\n${request.residency}\n${request.expiresAt}`)
      .digest("base64url");
  }
}
