import type { DayRange, EarnedDay } from "../../domain/tiers";
import { heldOr, heldUnder, hold } from "./held";

/** Points earned per local day (for tier windows), and the member's tier: which, since when, when it is reviewed. */

/**
 * Window sums are held in memory once read (./held.ts) and kept up to date by the earns, so a log with a ladder
 * reads none (the window of a day stays the same all day).
 */
const EARNED = "earned\u0000";

export function addEarnedPoints(sql: SqlStorage, day: number, points: number): void {
  sql.exec("INSERT INTO earned_days (day, points) VALUES (?, ?) ON CONFLICT (day) DO UPDATE SET points = points + excluded.points", day, points);
  for (const [key, sum] of heldUnder(sql, EARNED)) {
    const [first, last] = key.slice(EARNED.length).split("\u0000").map(Number) as [number, number];
    if (first <= day && day <= last) hold(sql, key, (sum as number) + points);
  }
}

const bounds = (range: DayRange): [number, number] => [range.first ?? Number.MIN_SAFE_INTEGER, range.last ?? Number.MAX_SAFE_INTEGER];

/** Points earned on the days of `range`. */
export function earnedIn(sql: SqlStorage, range: DayRange): number {
  const [first, last] = bounds(range);
  return heldOr(
    sql,
    `${EARNED}${first}\u0000${last}`,
    () => sql.exec<{ n: number | null }>("SELECT SUM(points) AS n FROM earned_days WHERE day BETWEEN ? AND ?", first, last).one().n ?? 0,
  );
}

/** The days of `range` with points earned, oldest first. */
export function earnedDaysIn(sql: SqlStorage, range: DayRange): EarnedDay[] {
  return sql.exec<EarnedDay>("SELECT day, points FROM earned_days WHERE day BETWEEN ? AND ? ORDER BY day", ...bounds(range)).toArray();
}

export type TierState = { tierId: string | null; since: number | null; reviewAt: number | null };

/** Held in memory (./held.ts): a log reads it at most once per instance instead of up to three times. */
const TIER = "tier";

export function readTierState(sql: SqlStorage): TierState {
  return heldOr(sql, TIER, () => {
    const row = sql
      .exec<{ tier_id: string | null; since: number | null; review_at: number | null }>("SELECT tier_id, since, review_at FROM tier_state WHERE id = 1")
      .one();
    return { tierId: row.tier_id, since: row.since, reviewAt: row.review_at };
  });
}

/** Holds a state read elsewhere (the object's start read) as the one stored. */
export const holdTierState = (sql: SqlStorage, state: TierState): void => void hold(sql, TIER, state);

export function writeTierState(sql: SqlStorage, state: TierState): void {
  sql.exec("UPDATE tier_state SET tier_id = ?, since = ?, review_at = ? WHERE id = 1", state.tierId, state.since, state.reviewAt);
  hold(sql, TIER, { ...state });
}
