import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";

const VERSION = "v1";

/**
 * AES-256-GCM under a key derived from ENCRYPTION_KEY (SHA-256 of it, so any 32+ character secret
 * works). Ciphertext text form: `v1:<iv>:<tag>:<ciphertext>`, base64url parts. A wrong key or a
 * tampered value fails to decrypt (GCM authentication) instead of yielding garbage.
 */
export class SecretBox {
  readonly #key: Buffer;

  constructor(encryptionKey: string) {
    this.#key = createHash("sha256").update(encryptionKey).digest();
  }

  encrypt(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.#key, iv);
    const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return [VERSION, iv.toString("base64url"), cipher.getAuthTag().toString("base64url"), ciphertext.toString("base64url")].join(":");
  }

  decrypt(text: string): string {
    const [version, iv, tag, ciphertext] = text.split(":");
    if (version !== VERSION || iv === undefined || tag === undefined || ciphertext === undefined) {
      throw new Error("Not a Runplane ciphertext");
    }
    const decipher = createDecipheriv("aes-256-gcm", this.#key, Buffer.from(iv, "base64url"));
    decipher.setAuthTag(Buffer.from(tag, "base64url"));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, "base64url")), decipher.final()]).toString("utf8");
  }
}
