/**
 * What the user's object acknowledged: every message it committed to its outbox (logged events, challenge
 * completions, reward adjustments), by the time it committed it, with the body needed to send it again. The
 * outbox's insert trigger writes these rows (migration 9), in the same statement and transaction as the outbox
 * row, so the log is complete by construction. Reconciliation (src/services/reconciliation.ts) compares it
 * with D1 and sends again what never arrived.
 *
 * Kept ACKNOWLEDGED_RETENTION_MS, then pruned by the object itself (with its idempotency sweep, in its alarm and
 * when reconciliation asks), so storage stays bounded: at most a week of a user's messages.
 */
export const ACKNOWLEDGED_RETENTION_MS = 7 * 86_400_000;

/** Rows one prune deletes at most (oldest first); the next prune goes on. */
const PRUNE_BATCH = 5_000;

/** At most this many uids answer one range query; `complete` says whether the range held more. */
export const MAX_ACKNOWLEDGED_PER_CALL = 5_000;

export type AcknowledgedPage = { uids: string[]; complete: boolean };

/** The uids acknowledged in [from, to] (epoch ms, both included), oldest first, at most `limit`. */
export function acknowledgedBetween(sql: SqlStorage, from: number, to: number, limit = MAX_ACKNOWLEDGED_PER_CALL): AcknowledgedPage {
  const rows = sql
    .exec<{ event_uid: string }>(
      "SELECT event_uid FROM acknowledged WHERE acked_at >= ? AND acked_at <= ? ORDER BY acked_at, event_uid LIMIT ?",
      from,
      to,
      limit + 1,
    )
    .toArray();
  const complete = rows.length <= limit;
  return { uids: rows.slice(0, limit).map((row) => row.event_uid), complete };
}

/** Deletes what is older than the retention window (at most PRUNE_BATCH rows a call). */
export function pruneAcknowledged(sql: SqlStorage, now: number): void {
  sql.exec(
    `DELETE FROM acknowledged WHERE (acked_at, event_uid) IN (
       SELECT acked_at, event_uid FROM acknowledged WHERE acked_at < ? ORDER BY acked_at LIMIT ?
     )`,
    now - ACKNOWLEDGED_RETENTION_MS,
    PRUNE_BATCH,
  );
}
