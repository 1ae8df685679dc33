import type { LotTake } from "../../domain/point-lots";
import type { Redemption } from "../../domain/points-lifecycle";

/**
 * The member's redemptions, kept for good: each under its idempotency key (a retry with the same key and body
 * answers the first redemption again, however late), with the lots it took from, for its reversal.
 */

export type StoredRedemption = Redemption & { requestHash: string; taken: LotTake[] };

type RedemptionRow = {
  id: string;
  request_hash: string;
  points: number;
  reason: string;
  reference: string | null;
  created_at: number;
  balance_after: number;
  taken: string;
  reversed_at: number | null;
};

const COLUMNS = "id, request_hash, points, reason, reference, created_at, balance_after, taken, reversed_at";

const toRedemption = (row: RedemptionRow): StoredRedemption => ({
  redemptionId: row.id,
  points: row.points,
  balance: row.balance_after,
  createdAt: new Date(row.created_at).toISOString(),
  reason: row.reason,
  reference: row.reference,
  reversedAt: row.reversed_at === null ? null : new Date(row.reversed_at).toISOString(),
  requestHash: row.request_hash,
  taken: JSON.parse(row.taken) as LotTake[],
});

export function redemptionByKey(sql: SqlStorage, idempotencyKey: string): StoredRedemption | null {
  const row = sql.exec<RedemptionRow>(`SELECT ${COLUMNS} FROM redemptions WHERE idempotency_key = ?`, idempotencyKey).toArray()[0];
  return row ? toRedemption(row) : null;
}

export function redemptionById(sql: SqlStorage, redemptionId: string): StoredRedemption | null {
  const row = sql.exec<RedemptionRow>(`SELECT ${COLUMNS} FROM redemptions WHERE id = ?`, redemptionId).toArray()[0];
  return row ? toRedemption(row) : null;
}

export function saveRedemption(
  sql: SqlStorage,
  redemption: {
    id: string;
    idempotencyKey: string;
    requestHash: string;
    points: number;
    reason: string;
    reference: string | null;
    metadata: Record<string, unknown>;
    createdAt: number;
    balanceAfter: number;
    taken: LotTake[];
  },
): void {
  sql.exec(
    `INSERT INTO redemptions (id, idempotency_key, request_hash, points, reason, reference, metadata, created_at, balance_after, taken)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    redemption.id,
    redemption.idempotencyKey,
    redemption.requestHash,
    redemption.points,
    redemption.reason,
    redemption.reference,
    JSON.stringify(redemption.metadata),
    redemption.createdAt,
    redemption.balanceAfter,
    JSON.stringify(redemption.taken),
  );
}

/** Marks a redemption reversed; false when it already was (a redemption is reversed once). */
export function markReversed(sql: SqlStorage, redemptionId: string, at: number, reason: string): boolean {
  return sql.exec("UPDATE redemptions SET reversed_at = ?, reversal_reason = ? WHERE id = ? AND reversed_at IS NULL", at, reason, redemptionId).rowsWritten > 0;
}
