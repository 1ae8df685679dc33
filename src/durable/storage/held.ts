/**
 * Rows a user's object holds in memory after reading or writing them, by storage handle: the object is their
 * only writer, so a hot path reads each at most once per instance (the tier, limit counters, streak summaries).
 * A rolled-back transaction may have written some: the object forgets them all then (forgetHeld), and the next
 * use reads the table again.
 */
const stores = new WeakMap<SqlStorage, Map<string, unknown>>();

/** Entries held per object at most: past it they are dropped (old periods' counters pile up in a long-lived instance). */
const MAX_HELD = 1_000;

function storeOf(sql: SqlStorage): Map<string, unknown> {
  let store = stores.get(sql);
  if (!store) {
    store = new Map();
    stores.set(sql, store);
  }
  return store;
}

/** The value held under `key`, else what `read` reads (then held). */
export function heldOr<T>(sql: SqlStorage, key: string, read: () => T): T {
  const store = storeOf(sql);
  if (store.has(key)) return store.get(key) as T;
  return hold(sql, key, read());
}

/** Holds `value` as what the table now holds under `key`. */
export function hold<T>(sql: SqlStorage, key: string, value: T): T {
  const store = storeOf(sql);
  if (store.size >= MAX_HELD && !store.has(key)) store.clear();
  store.set(key, value);
  return value;
}

/** The entries held under keys starting with `prefix`. */
export function heldUnder(sql: SqlStorage, prefix: string): Array<[string, unknown]> {
  return [...storeOf(sql)].filter(([key]) => key.startsWith(prefix));
}

export const forgetHeld = (sql: SqlStorage): void => void stores.delete(sql);
