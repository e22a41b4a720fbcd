/**
 * Postgres `text` and `jsonb` cannot hold U+0000. A request carrying one is refused at the edge with a
 * 400 instead of failing at the insert (a 500, or worse, a buffered trigger that can never drain).
 */

export const NUL_IN_BODY = "Request body contains a NUL character (\\u0000), which cannot be stored";
export const NUL_IN_URL = "The URL contains a NUL character (%00), which is not allowed";

/** True when a string, or any key or string inside an object or array, holds U+0000. */
export function containsNulCharacter(value: unknown): boolean {
  if (typeof value === "string") return value.includes("\0");
  if (Array.isArray(value)) return value.some(containsNulCharacter);
  if (value !== null && typeof value === "object") {
    for (const [key, inner] of Object.entries(value)) {
      if (key.includes("\0") || containsNulCharacter(inner)) return true;
    }
  }
  return false;
}

/**
 * Raw JSON cannot hold a literal NUL (JSON.parse refuses control characters), so only text with the
 * `\u0000` escape needs the walk; every other body pays one substring search.
 */
export function parsedJsonHasNul(text: string, value: unknown): boolean {
  return text.includes("\\u0000") && containsNulCharacter(value);
}

/** `%00` anywhere in a request URL decodes to U+0000 in a path parameter or a query value. */
export function urlHasNul(url: string): boolean {
  return url.includes("%00");
}
