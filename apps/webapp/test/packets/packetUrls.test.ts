import { describe, expect, test } from "vitest";
import { PACKET_URL_TTL_MS, PacketUrlSigner } from "~/v3/packets/packetUrls.server";

describe("signed packet URLs", () => {
  const key = "env_1/trigger/payload.json";
  const parse = (url: string) => {
    const u = new URL(url);
    return { key: decodeURIComponent(u.pathname.replace(/^\/packet-objects\//, "")), params: u.searchParams };
  };

  test("a URL grants exactly its operation, key and placement until it expires", () => {
    let now = 1_000_000;
    const signer = new PacketUrlSigner("secret-0123456789", "http://runplane.test", () => now);
    const { key: signedKey, params } = parse(signer.url("put", key, "NEW"));
    expect(signedKey).toBe(key);
    expect(signer.verify(signedKey, params)).toEqual({ ok: true, request: { op: "put", key, residency: "NEW", expiresAt: 1_000_000 + PACKET_URL_TTL_MS } });

    expect(signer.verify("env_2/trigger/payload.json", params)).toEqual({ ok: false, reason: "Invalid packet URL signature" });
    for (const [name, value] of [["op", "get"], ["rs", "LEGACY"], ["exp", String(now + 10 * PACKET_URL_TTL_MS)]] as const) {
      const tampered = new URLSearchParams(params);
      tampered.set(name, value);
      expect(signer.verify(key, tampered)).toEqual({ ok: false, reason: "Invalid packet URL signature" });
    }
    const other = new PacketUrlSigner("another-secret-0123", "http://runplane.test", () => now);
    expect(other.verify(key, params).ok).toBe(false);

    now += PACKET_URL_TTL_MS + 1;
    expect(signer.verify(key, params)).toEqual({ ok: false, reason: "Packet URL expired" });
    expect(signer.verify(key, new URLSearchParams("op=put"))).toEqual({ ok: false, reason: "Malformed packet URL" });
  });
});
