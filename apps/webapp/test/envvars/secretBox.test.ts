import { describe, expect, test } from "vitest";
import { SecretBox } from "~/v3/envvars/secretBox.server";

describe("SecretBox (AES-256-GCM)", () => {
  const box = new SecretBox("0123456789abcdef0123456789abcdef");

  test("round-trips; every encryption is different; the plaintext never shows", () => {
    const a = box.encrypt("postgres://user:pw@host/db");
    const b = box.encrypt("postgres://user:pw@host/db");
    expect(a).not.toBe(b);
    expect(a).toMatch(/^v1:[\w-]+:[\w-]+:[\w-]+$/);
    expect(a).not.toContain("pw@host");
    expect(box.decrypt(a)).toBe("postgres://user:pw@host/db");
    expect(box.decrypt(box.encrypt(""))).toBe("");
    expect(box.decrypt(box.encrypt("ünïcødé ✓"))).toBe("ünïcødé ✓");
  });

  test("a wrong key or a tampered value fails instead of yielding garbage", () => {
    const sealed = box.encrypt("secret");
    expect(() => new SecretBox("another-key-another-key-another-key").decrypt(sealed)).toThrow();
    const [v, iv, tag, data] = sealed.split(":");
    const flipped = Buffer.from(data!, "base64url");
    flipped[0]! ^= 1;
    expect(() => box.decrypt([v, iv, tag, flipped.toString("base64url")].join(":"))).toThrow();
    expect(() => box.decrypt("plain text")).toThrow(/Not a Runplane ciphertext/);
  });
});
