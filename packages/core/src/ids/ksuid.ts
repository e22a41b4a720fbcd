import { createHash, randomBytes } from "node:crypto";

/** New (run-ops) ids: 20 bytes (4-byte seconds since the KSUID epoch + 16 random) in 27 base62 chars. */
export const KSUID_LENGTH = 27;
const KSUID_EPOCH_SECONDS = 1_400_000_000;
const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const KSUID_PATTERN = /^[0-9A-Za-z]{27}$/;
// The largest 20-byte value encodes as this; anything above it is not a ksuid.
const MAX_KSUID = "aWgEPTl1tmebfsQzFP4bxwgy80V";

function encodeBase62(bytes: Uint8Array): string {
  let value = 0n;
  for (const b of bytes) value = (value << 8n) | BigInt(b);
  let out = "";
  while (value > 0n) {
    out = BASE62[Number(value % 62n)] + out;
    value /= 62n;
  }
  return out.padStart(KSUID_LENGTH, "0");
}

function decodeBase62(text: string): bigint {
  let value = 0n;
  for (const ch of text) value = value * 62n + BigInt(BASE62.indexOf(ch));
  return value;
}

export function generateKsuid(now: Date = new Date()): string {
  const bytes = new Uint8Array(20);
  const seconds = Math.floor(now.getTime() / 1000) - KSUID_EPOCH_SECONDS;
  new DataView(bytes.buffer).setUint32(0, seconds >>> 0);
  bytes.set(randomBytes(16), 4);
  return encodeBase62(bytes);
}

export function isKsuid(id: string): boolean {
  return KSUID_PATTERN.test(id) && id <= MAX_KSUID;
}

/** Creation time encoded in a ksuid (second precision). */
export function ksuidTimestamp(id: string): Date {
  const seconds = Number(decodeBase62(id) >> 128n) + KSUID_EPOCH_SECONDS;
  return new Date(seconds * 1000);
}

/**
 * A ksuid derived from another: the same timestamp (so it sorts and routes like `seed`) and 16 bytes
 * of SHA-256 over `seed` and `salt`. The same inputs always give the same id.
 */
export function deriveKsuid(seed: string, salt: string): string {
  const bytes = new Uint8Array(20);
  const seconds = Number(decodeBase62(seed) >> 128n);
  new DataView(bytes.buffer).setUint32(0, seconds >>> 0);
  bytes.set(createHash("sha256").update(`${seed}\0${salt}`).digest().subarray(0, 16), 4);
  return encodeBase62(bytes);
}
