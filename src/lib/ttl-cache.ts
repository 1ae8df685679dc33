/**
 * A per-isolate cache with a size bound and an expiry per entry. Every cache keyed by request input uses it,
 * so no such cache can grow without bound: past `maxEntries` the oldest entry is dropped.
 */
export class TtlCache<K, V> {
  private readonly entries = new Map<K, { value: V; expiresAt: number }>();

  constructor(
    private readonly maxEntries: number,
    private readonly ttlMs: number,
  ) {}

  /** The live value, or undefined when absent or expired (an expired entry is removed). */
  get(key: K, now = Date.now()): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: K, value: V, ttlMs = this.ttlMs, now = Date.now()): void {
    this.entries.delete(key); // re-inserting moves the key to the newest end
    while (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as K);
    this.entries.set(key, { value, expiresAt: now + ttlMs });
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  /** The cached value, or the loader's result cached (a loader answering undefined caches nothing). */
  async getOrLoad(key: K, load: () => Promise<V | undefined>): Promise<V | undefined> {
    const cached = this.get(key);
    if (cached !== undefined) return cached;
    const value = await load();
    if (value !== undefined) this.set(key, value);
    return value;
  }

  get size(): number {
    return this.entries.size;
  }
}
