import type { DayRange, EarnedDay } from "../../domain/tiers";

/** Points earned per local day (for tier windows), and the member's tier: which, since when, when it is reviewed. */

export function addEarnedPoints(sql: SqlStorage, day: number, points: number): void {
  sql.exec("INSERT INTO earned_days (day, points) VALUES (?, ?) ON CONFLICT (day) DO UPDATE SET points = points + excluded.points", day, points);
}

const bounds = (range: DayRange): [number, number] => [range.first ?? Number.MIN_SAFE_INTEGER, range.last ?? Number.MAX_SAFE_INTEGER];

/** Points earned on the days of `range`. */
export function earnedIn(sql: SqlStorage, range: DayRange): number {
  return sql.exec<{ n: number | null }>("SELECT SUM(points) AS n FROM earned_days WHERE day BETWEEN ? AND ?", ...bounds(range)).one().n ?? 0;
}

/** The days of `range` with points earned, oldest first. */
export function earnedDaysIn(sql: SqlStorage, range: DayRange): EarnedDay[] {
  return sql.exec<EarnedDay>("SELECT day, points FROM earned_days WHERE day BETWEEN ? AND ? ORDER BY day", ...bounds(range)).toArray();
}

export type TierState = { tierId: string | null; since: number | null; reviewAt: number | null };

export function readTierState(sql: SqlStorage): TierState {
  const row = sql
    .exec<{ tier_id: string | null; since: number | null; review_at: number | null }>("SELECT tier_id, since, review_at FROM tier_state WHERE id = 1")
    .one();
  return { tierId: row.tier_id, since: row.since, reviewAt: row.review_at };
}

export function writeTierState(sql: SqlStorage, state: TierState): void {
  sql.exec("UPDATE tier_state SET tier_id = ?, since = ?, review_at = ? WHERE id = 1", state.tierId, state.since, state.reviewAt);
}
