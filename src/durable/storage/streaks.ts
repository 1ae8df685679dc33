import type { StreakSummary } from "../../domain/streaks";
import { heldOr, hold } from "./held";

/** The periods in which the user had a qualifying log, per streak and calendar, and each streak's summary. */

/** Records a qualifying period; true when it is new (the log extended the set). */
export function addStreakPeriod(sql: SqlStorage, streakId: string, calendar: string, period: number): boolean {
  return sql.exec("INSERT OR IGNORE INTO streak_periods (streak_id, calendar, period) VALUES (?, ?, ?)", streakId, calendar, period).rowsWritten > 0;
}

export function streakPeriods(sql: SqlStorage, streakId: string, calendar: string): number[] {
  return sql
    .exec<{ period: number }>("SELECT period FROM streak_periods WHERE streak_id = ? AND calendar = ? ORDER BY period", streakId, calendar)
    .toArray()
    .map((row) => row.period);
}

type SummaryRow = {
  calendar: string;
  freezes_per_month: number;
  current: number;
  longest: number;
  last_period: number;
  alive_through: number;
};

/** Summaries are held in memory once read or written (./held.ts). */
const heldKey = (streakId: string) => `streak\u0000${streakId}`;

/** The stored summary, when it was computed for this calendar and these freezes. */
export function cachedStreakSummary(sql: SqlStorage, streakId: string, calendar: string, freezesPerMonth: number): StreakSummary | null {
  const row = heldOr<SummaryRow | null>(
    sql,
    heldKey(streakId),
    () =>
      sql
        .exec<SummaryRow>(
          "SELECT calendar, freezes_per_month, current, longest, last_period, alive_through FROM streak_summaries WHERE streak_id = ?",
          streakId,
        )
        .toArray()[0] ?? null,
  );
  if (!row || row.calendar !== calendar || row.freezes_per_month !== freezesPerMonth) return null;
  return { current: row.current, longest: row.longest, lastPeriod: row.last_period, aliveThrough: row.alive_through };
}

export function saveStreakSummary(sql: SqlStorage, streakId: string, calendar: string, freezesPerMonth: number, summary: StreakSummary): void {
  sql.exec(
    `INSERT OR REPLACE INTO streak_summaries (streak_id, calendar, freezes_per_month, current, longest, last_period, alive_through)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
    streakId,
    calendar,
    freezesPerMonth,
    summary.current,
    summary.longest,
    summary.lastPeriod,
    summary.aliveThrough,
  );
  hold<SummaryRow>(sql, heldKey(streakId), {
    calendar,
    freezes_per_month: freezesPerMonth,
    current: summary.current,
    longest: summary.longest,
    last_period: summary.lastPeriod,
    alive_through: summary.aliveThrough,
  });
}
