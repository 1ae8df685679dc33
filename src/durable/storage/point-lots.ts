import type { LotRemainder, LotTake } from "../../domain/point-lots";

/**
 * The member's point lots (src/domain/point-lots.ts): one row per earn, with what is left and when that expires
 * (epoch ms; null never). The partial indexes hold only lots with points left, so spending reads the oldest
 * live lots and the next expiry is one index seek, however many lots were used up.
 */

export type LotSource = "earn" | "adjust" | "reverse" | "opening";
export type NewLot = { earnedAt: number; points: number; remaining: number; expiresAt: number | null; source: LotSource; reference: string | null };

export function addLot(sql: SqlStorage, lot: NewLot): number {
  return sql
    .exec<{ id: number }>(
      "INSERT INTO point_lots (earned_at, points, remaining, expires_at, source, reference) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
      lot.earnedAt,
      lot.points,
      lot.remaining,
      lot.expiresAt,
      lot.source,
      lot.reference,
    )
    .one().id;
}

/** Live lots read per statement while spending. */
const LOT_PAGE = 100;

/** Lots with points left, oldest first, read a page at a time: a caller that stops early reads no further. */
export function* liveLots(sql: SqlStorage): Iterable<LotRemainder> {
  for (let after = 0; ; ) {
    const page = sql
      .exec<{ id: number; remaining: number }>("SELECT id, remaining FROM point_lots WHERE remaining > 0 AND id > ? ORDER BY id LIMIT ?", after, LOT_PAGE)
      .toArray();
    yield* page;
    if (page.length < LOT_PAGE) return;
    after = page[page.length - 1]!.id;
  }
}

/** Moves points out of (sign -1) or back into (sign 1) lots. */
export function moveLotPoints(sql: SqlStorage, moves: readonly LotTake[], sign: 1 | -1): void {
  if (moves.length === 0) return;
  sql.exec(
    `UPDATE point_lots SET remaining = remaining + ?1 * (m.value ->> '$.points')
     FROM json_each(?2) AS m WHERE point_lots.id = m.value ->> '$.lotId'`,
    sign,
    JSON.stringify(moves),
  );
}

/** When each of these lots expires (null: never); lots not found are absent. */
export function lotExpiries(sql: SqlStorage, lotIds: readonly number[]): Map<number, number | null> {
  const rows = sql
    .exec<{ id: number; expires_at: number | null }>(
      "SELECT id, expires_at FROM point_lots WHERE id IN (SELECT value FROM json_each(?))",
      JSON.stringify(lotIds),
    )
    .toArray();
  return new Map(rows.map((row) => [row.id, row.expires_at]));
}

/** The earliest instant at which points left in lots expire, or null when none will. */
export function nextExpiry(sql: SqlStorage): number | null {
  return sql.exec<{ at: number | null }>("SELECT MIN(expires_at) AS at FROM point_lots WHERE remaining > 0 AND expires_at IS NOT NULL").one().at;
}

/** Expires what is left in the lots expiring at `at`; returns the points expired and how many lots. */
export function expireLotsAt(sql: SqlStorage, at: number): { points: number; lots: number } {
  const due = sql
    .exec<{ points: number | null; lots: number }>(
      "SELECT SUM(remaining) AS points, COUNT(*) AS lots FROM point_lots WHERE remaining > 0 AND expires_at = ?",
      at,
    )
    .one();
  sql.exec("UPDATE point_lots SET remaining = 0 WHERE remaining > 0 AND expires_at = ?", at);
  return { points: due.points ?? 0, lots: due.lots };
}

/** The next `limit` expiry instants with the points that expire at each. */
export function upcomingExpiries(sql: SqlStorage, limit: number): Array<{ points: number; expiresAt: number }> {
  return sql
    .exec<{ points: number; expires_at: number }>(
      `SELECT SUM(remaining) AS points, expires_at FROM point_lots WHERE remaining > 0 AND expires_at IS NOT NULL
       GROUP BY expires_at ORDER BY expires_at LIMIT ?`,
      limit,
    )
    .toArray()
    .map((row) => ({ points: row.points, expiresAt: row.expires_at }));
}

/** What is left in all lots. */
export const lotsRemaining = (sql: SqlStorage): number =>
  sql.exec<{ n: number | null }>("SELECT SUM(remaining) AS n FROM point_lots WHERE remaining > 0").one().n ?? 0;
