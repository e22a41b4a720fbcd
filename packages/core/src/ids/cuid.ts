import { createHash, randomBytes } from "node:crypto";

/** Legacy internal ids: "c" + 24 lowercase base36 chars = 25 chars. */
export const CUID_LENGTH = 25;
const CUID_PATTERN = /^c[0-9a-z]{24}$/;

let counter = Math.floor(Math.random() * 36 ** 4);
const fingerprint = randomBase36(4);

function randomBase36(length: number): string {
  const bytes = randomBytes(length);
  let out = "";
  for (let i = 0; i < length; i++) out += (bytes[i] % 36).toString(36);
  return out;
}

function pad(value: string, length: number): string {
  return value.length >= length ? value.slice(-length) : value.padStart(length, "0");
}

/** Time-ordered, collision-resistant 25-char id (timestamp, counter, process fingerprint, randomness). */
export function generateCuid(): string {
  counter = (counter + 1) % 36 ** 4;
  return "c" + pad(Date.now().toString(36), 8) + pad(counter.toString(36), 4) + fingerprint + randomBase36(8);
}

export function isCuid(id: string): boolean {
  return CUID_PATTERN.test(id);
}

/**
 * A cuid derived from another: the same timestamp block (first 9 characters) and 16 base36
 * characters of SHA-256 over `seed` and `salt`. The same inputs always give the same id.
 */
export function deriveCuid(seed: string, salt: string): string {
  const digest = createHash("sha256").update(`${seed}\0${salt}`).digest();
  let tail = "";
  for (let i = 0; i < 16; i++) tail += (digest[i] % 36).toString(36);
  return seed.slice(0, 9) + tail;
}
