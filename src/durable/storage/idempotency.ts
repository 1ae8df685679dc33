/** Idempotency keys are kept for 48 hours (the contract promises at least 24). */
export const IDEMPOTENCY_TTL_MS = 48 * 3_600_000;

/**
 * Each kind of request has its own key namespace (the key's `kind` column): a log key and an adjustment key
 * never collide, whatever characters the client puts in them.
 */
export type IdempotencyKind = "log" | "adjustment";

export type IdempotencyRecord = { requestHash: string; response: string };

/** The live record of a key of one kind, if any. */
export function findIdempotencyRecord(sql: SqlStorage, kind: IdempotencyKind, key: string, now: number): IdempotencyRecord | null {
  const row = sql
    .exec<{ request_hash: string; response: string }>(
      "SELECT request_hash, response FROM idempotency_keys WHERE kind = ? AND key = ? AND created_at >= ?",
      kind,
      key,
      now - IDEMPOTENCY_TTL_MS,
    )
    .toArray()[0];
  return row ? { requestHash: row.request_hash, response: row.response } : null;
}

export function rememberResponse(sql: SqlStorage, kind: IdempotencyKind, key: string, requestHash: string, response: string, now: number): void {
  sql.exec(
    "INSERT OR REPLACE INTO idempotency_keys (kind, key, request_hash, response, created_at) VALUES (?, ?, ?, ?, ?)",
    kind,
    key,
    requestHash,
    response,
    now,
  );
}

export function expireIdempotencyRecords(sql: SqlStorage, now: number): void {
  sql.exec("DELETE FROM idempotency_keys WHERE created_at < ?", now - IDEMPOTENCY_TTL_MS);
}
