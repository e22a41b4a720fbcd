import { randomInt } from "node:crypto";

const ALPHANUMERIC = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWERCASE = "abcdefghijklmnopqrstuvwxyz";

/** Uniformly random string over `alphabet` (crypto-strong, no modulo bias). */
export function randomString(length: number, alphabet = ALPHANUMERIC): string {
  let out = "";
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

export type EnvironmentKeyKind = "dev" | "prod";

/** Secret key used by SDKs and workers: `tr_dev_` / `tr_prod_` + 24 letters or digits. */
export function generateSecretKey(kind: EnvironmentKeyKind): string {
  return `tr_${kind}_${randomString(24)}`;
}

/** Public key, safe in browsers for realtime reads: `pk_dev_` / `pk_prod_` + 24 letters or digits. */
export function generatePublicKey(kind: EnvironmentKeyKind): string {
  return `pk_${kind}_${randomString(24)}`;
}

/** A project's external reference: `proj_` + 20 lowercase letters. */
export function generateProjectRef(): string {
  return `proj_${randomString(20, LOWERCASE)}`;
}

/** Short code shown beside an environment's name. */
export function generateShortcode(): string {
  return randomString(6, "0123456789abcdefghijklmnopqrstuvwxyz");
}
