import type { PointsHistoryEntry } from "../../domain/points-lifecycle";

/**
 * The member's points history: every change of the balance, and every tier change (0 points), numbered by
 * `seq` in the order they happened, each with the balance after it. `points` is signed: what the change added
 * to the balance (earn, reverse, a positive adjust) or took from it (redeem, expire, a negative adjust).
 */

type HistoryRow = {
  seq: number;
  type: PointsHistoryEntry["type"];
  at: number;
  points: number;
  balance_after: number;
  reference: string | null;
  reason: string | null;
  details: string | null;
};

export type NewHistoryEntry = Omit<PointsHistoryEntry, "seq" | "at"> & { at: number };

export function appendHistory(sql: SqlStorage, entry: NewHistoryEntry): number {
  return sql
    .exec<{ seq: number }>(
      "INSERT INTO points_history (type, at, points, balance_after, reference, reason, details) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING seq",
      entry.type,
      entry.at,
      entry.points,
      entry.balanceAfter,
      entry.reference,
      entry.reason,
      entry.details === null ? null : JSON.stringify(entry.details),
    )
    .one().seq;
}

const toEntry = (row: HistoryRow): PointsHistoryEntry => ({
  seq: row.seq,
  type: row.type,
  at: new Date(row.at).toISOString(),
  points: row.points,
  balanceAfter: row.balance_after,
  reference: row.reference,
  reason: row.reason,
  details: row.details === null ? null : (JSON.parse(row.details) as Record<string, unknown>),
});

export type PointsHistoryPage = { entries: PointsHistoryEntry[]; nextCursor: number | null };

/** Newest first, before seq `cursor` (exclusive) when given; `nextCursor` continues after the last entry. */
export function readHistoryPage(sql: SqlStorage, cursor: number | undefined, limit: number): PointsHistoryPage {
  const rows = sql
    .exec<HistoryRow>(
      "SELECT seq, type, at, points, balance_after, reference, reason, details FROM points_history WHERE seq < ? ORDER BY seq DESC LIMIT ?",
      cursor ?? Number.MAX_SAFE_INTEGER,
      limit + 1,
    )
    .toArray();
  const entries = rows.slice(0, limit).map(toEntry);
  return { entries, nextCursor: rows.length > limit ? entries[entries.length - 1]!.seq : null };
}
