import type { DayRange, Neighbours } from "../../domain/active-days";
import type { Activity, StreakState } from "../../domain/logged-event";

/**
 * What the user's object keeps so that the stats need no per-user rows in D1 (user-object migration "stats
 * flags"):
 * - `active_days`: the user's active UTC days per event id ('*': any event) as ranges of consecutive days
 *   (day numbers since 1970-01-01). One row per run of consecutive active days per event id.
 * - `streak_reports`: per streak, the state the analytics were last told (with the log's sequence number), so
 *   the next state can say which buckets the user leaves.
 * - `stats_answers`: the answer given for a message from before the flags existed (or sent while the object
 *   could not read its seed), by event uid, so a consumer asking again gets the same answer.
 * - `stats_seed`: whether the object still has to import what D1's per-user rows held for its user (D1
 *   migration 0009 moved them into `stats_user_seeds`).
 */

type RangeRow = { first_day: number; last_day: number };

type NeighbourColumns = { b_first: number | null; b_last: number | null; a_first: number | null; a_last: number | null; n_last: number | null };

/** The columns reading one event id's ranges around the day (?3): the range starting on or before it, the next, the newest. */
const neighbourColumns = (n: 1 | 2) => `
  b${n}.first_day AS b${n}_first, b${n}.last_day AS b${n}_last, a${n}.first_day AS a${n}_first, a${n}.last_day AS a${n}_last,
  (SELECT last_day FROM active_days WHERE event_id = ?${n} ORDER BY first_day DESC LIMIT 1) AS n${n}_last`;
const neighbourJoins = (n: 1 | 2) => `
  LEFT JOIN (SELECT first_day, last_day FROM active_days WHERE event_id = ?${n} AND first_day <= ?3 ORDER BY first_day DESC LIMIT 1) AS b${n} ON true
  LEFT JOIN (SELECT first_day, last_day FROM active_days WHERE event_id = ?${n} AND first_day > ?3 ORDER BY first_day LIMIT 1) AS a${n} ON true`;
const NEIGHBOURS = `SELECT ${neighbourColumns(1)}, ${neighbourColumns(2)} FROM (SELECT 1) AS one ${neighbourJoins(1)} ${neighbourJoins(2)}`;

const toNeighbours = (c: NeighbourColumns): Neighbours => ({
  before: c.b_first === null ? null : { first: c.b_first, last: c.b_last! },
  after: c.a_first === null ? null : { first: c.a_first, last: c.a_last! },
  newestLast: c.n_last,
});

/** The ranges around `day` of two event ids, in one statement (six index seeks). */
export function neighbours(sql: SqlStorage, eventIds: readonly [string, string], day: number): [Neighbours, Neighbours] {
  const row = sql.exec<Record<string, number | null>>(NEIGHBOURS, eventIds[0], eventIds[1], day).one();
  const of = (n: 1 | 2): NeighbourColumns => ({
    b_first: row[`b${n}_first`] ?? null,
    b_last: row[`b${n}_last`] ?? null,
    a_first: row[`a${n}_first`] ?? null,
    a_last: row[`a${n}_last`] ?? null,
    n_last: row[`n${n}_last`] ?? null,
  });
  return [toNeighbours(of(1)), toNeighbours(of(2))];
}

export function writeRange(sql: SqlStorage, eventId: string, write: { remove: number | null; put: DayRange }): void {
  if (write.remove !== null) sql.exec("DELETE FROM active_days WHERE event_id = ? AND first_day = ?", eventId, write.remove);
  sql.exec(
    `INSERT INTO active_days (event_id, first_day, last_day) VALUES (?, ?, ?)
     ON CONFLICT (event_id, first_day) DO UPDATE SET last_day = excluded.last_day`,
    eventId,
    write.put.first,
    write.put.last,
  );
}

/** Every range of one event id, oldest first (tests and the README's size figures). */
export function rangesOf(sql: SqlStorage, eventId: string): DayRange[] {
  return sql
    .exec<RangeRow>("SELECT first_day, last_day FROM active_days WHERE event_id = ? ORDER BY first_day", eventId)
    .toArray()
    .map((r) => ({ first: r.first_day, last: r.last_day }));
}

/** Deletes ranges that end before `keepFrom`, except each event id's newest. */
export function pruneRanges(sql: SqlStorage, keepFrom: number): void {
  sql.exec(
    `DELETE FROM active_days WHERE last_day < ?1
       AND first_day < (SELECT MAX(first_day) FROM active_days AS newer WHERE newer.event_id = active_days.event_id)`,
    keepFrom,
  );
}

export type StreakReport = { seq: number; current: number; longest: number; aliveUntil: number };

export function streakReport(sql: SqlStorage, streakId: string): StreakReport | null {
  const row = sql
    .exec<{ seq: number; current: number; longest: number; alive_until: number }>(
      "SELECT seq, current, longest, alive_until FROM streak_reports WHERE streak_id = ?",
      streakId,
    )
    .toArray()[0];
  return row ? { seq: row.seq, current: row.current, longest: row.longest, aliveUntil: row.alive_until } : null;
}

export function saveStreakReport(sql: SqlStorage, streakId: string, seq: number, state: StreakState): void {
  sql.exec(
    `INSERT INTO streak_reports (streak_id, seq, current, longest, alive_until) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (streak_id) DO UPDATE SET seq = excluded.seq, current = excluded.current, longest = excluded.longest,
       alive_until = excluded.alive_until`,
    streakId,
    seq,
    state.current,
    state.longest,
    state.aliveUntil,
  );
}

/** The answer a consumer got for a message without flags (see stats-activity.ts). */
export type StatsAnswer = { eventUid: string; activity: Activity | null; streaks: StreakState[] };

export function storedAnswer(sql: SqlStorage, eventUid: string): StatsAnswer | null {
  const row = sql.exec<{ answer: string }>("SELECT answer FROM stats_answers WHERE event_uid = ?", eventUid).toArray()[0];
  return row ? (JSON.parse(row.answer) as StatsAnswer) : null;
}

export function storeAnswer(sql: SqlStorage, answer: StatsAnswer): void {
  sql.exec("INSERT INTO stats_answers (event_uid, answer) VALUES (?, ?)", answer.eventUid, JSON.stringify(answer));
}

export const seedPending = (sql: SqlStorage): boolean =>
  (sql.exec<{ pending: number }>("SELECT pending FROM stats_seed WHERE id = 1").toArray()[0]?.pending ?? 0) === 1;

/**
 * What D1 held for this user before migration 0009 (src/db/stats-seeds.ts): active day ranges per event id
 * `[eventId, firstDay, lastDay]` and streak states `[streakId, seq, current, longest, aliveUntil]`.
 */
export type StatsSeed = { active: Array<[string, number, number]>; streaks: Array<[string, number, number, number, number]> };

/** Imports a seed once (the caller's transaction); an object that recorded nothing yet has empty tables. */
export function importSeed(sql: SqlStorage, seed: StatsSeed | null): void {
  for (const [eventId, first, last] of seed?.active ?? []) {
    sql.exec("INSERT OR IGNORE INTO active_days (event_id, first_day, last_day) VALUES (?, ?, ?)", eventId, first, last);
  }
  for (const [streakId, seq, current, longest, aliveUntil] of seed?.streaks ?? []) {
    saveStreakReport(sql, streakId, seq, { streakId, current, longest, aliveUntil });
  }
  sql.exec("UPDATE stats_seed SET pending = 0 WHERE id = 1");
}
