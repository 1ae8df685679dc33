/** Idempotency keys are kept for 48 hours (the contract promises at least 24). */
export const IDEMPOTENCY_TTL_MS = 48 * 3_600_000;

export type IdempotencyRecord = { requestHash: string; response: string };

/** The live record of a key, if any. */
export function findIdempotencyRecord(sql: SqlStorage, key: string, now: number): IdempotencyRecord | null {
  const row = sql
    .exec<{ request_hash: string; response: string }>(
      "SELECT request_hash, response FROM idempotency WHERE key = ? AND created_at >= ?",
      key,
      now - IDEMPOTENCY_TTL_MS,
    )
    .toArray()[0];
  return row ? { requestHash: row.request_hash, response: row.response } : null;
}

export function rememberResponse(sql: SqlStorage, key: string, requestHash: string, response: string, now: number): void {
  sql.exec(
    "INSERT OR REPLACE INTO idempotency (key, request_hash, response, created_at) VALUES (?, ?, ?, ?)",
    key,
    requestHash,
    response,
    now,
  );
}

export function expireIdempotencyRecords(sql: SqlStorage, now: number): void {
  sql.exec("DELETE FROM idempotency WHERE created_at < ?", now - IDEMPOTENCY_TTL_MS);
}
