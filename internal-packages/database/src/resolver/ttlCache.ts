export type TtlCacheOptions = {
  /** How long an entry is served after it was stored. Default 30 s; 0 means never served. */
  ttlMs?: number;
  /** Upper bound on live entries; the least recently used one is evicted beyond it. Default 10,000. */
  maxEntries?: number;
  /** Clock in milliseconds, injectable for tests. */
  now?: () => number;
};

export const DEFAULT_CACHE_TTL_MS = 30_000;
export const DEFAULT_CACHE_MAX_ENTRIES = 10_000;

type Entry<V> = { value: V; expiresAt: number; tags: readonly string[] };

export type TtlCacheStats = { size: number; hits: number; misses: number; evictions: number };

/**
 * A bounded in-process cache with per-entry expiry and tag-based invalidation.
 *
 * Values may be `null` (a confirmed absence is worth caching); `undefined` from `get` always means a miss.
 * Recency is tracked by Map insertion order: a hit moves the entry to the back, eviction takes the front.
 * Tags (e.g. `org:<id>`) let one call drop every entry that depends on a row.
 */
export class BoundedTtlCache<V extends {} | null> {
  readonly ttlMs: number;
  readonly maxEntries: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry<V>>();
  readonly #keysByTag = new Map<string, Set<string>>();
  #hits = 0;
  #misses = 0;
  #evictions = 0;

  constructor(options: TtlCacheOptions = {}) {
    this.ttlMs = options.ttlMs ?? DEFAULT_CACHE_TTL_MS;
    this.maxEntries = options.maxEntries ?? DEFAULT_CACHE_MAX_ENTRIES;
    if (!(this.ttlMs >= 0)) throw new RangeError(`ttlMs must be >= 0, got ${this.ttlMs}`);
    if (!(this.maxEntries >= 1)) throw new RangeError(`maxEntries must be >= 1, got ${this.maxEntries}`);
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) {
      this.#misses++;
      return undefined;
    }
    if (entry.expiresAt <= this.#now()) {
      this.#remove(key, entry);
      this.#misses++;
      return undefined;
    }
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    this.#hits++;
    return entry.value;
  }

  set(key: string, value: V, tags: readonly string[] = []): void {
    const existing = this.#entries.get(key);
    if (existing) this.#remove(key, existing);
    while (this.#entries.size >= this.maxEntries) this.#evictOldest();
    this.#entries.set(key, { value, expiresAt: this.#now() + this.ttlMs, tags });
    for (const tag of tags) {
      let keys = this.#keysByTag.get(tag);
      if (!keys) this.#keysByTag.set(tag, (keys = new Set()));
      keys.add(key);
    }
  }

  delete(key: string): boolean {
    const entry = this.#entries.get(key);
    if (!entry) return false;
    this.#remove(key, entry);
    return true;
  }

  /** Drops every entry stored with `tag`. Returns how many were dropped. */
  invalidateTag(tag: string): number {
    const keys = this.#keysByTag.get(tag);
    if (!keys) return 0;
    let dropped = 0;
    for (const key of [...keys]) if (this.delete(key)) dropped++;
    return dropped;
  }

  clear(): void {
    this.#entries.clear();
    this.#keysByTag.clear();
  }

  stats(): TtlCacheStats {
    return { size: this.#entries.size, hits: this.#hits, misses: this.#misses, evictions: this.#evictions };
  }

  #evictOldest(): void {
    const oldest = this.#entries.keys().next();
    if (oldest.done) return;
    this.#remove(oldest.value, this.#entries.get(oldest.value)!);
    this.#evictions++;
  }

  #remove(key: string, entry: Entry<V>): void {
    this.#entries.delete(key);
    for (const tag of entry.tags) {
      const keys = this.#keysByTag.get(tag);
      if (!keys) continue;
      keys.delete(key);
      if (keys.size === 0) this.#keysByTag.delete(tag);
    }
  }
}
