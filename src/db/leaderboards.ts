import { periodEndsAt } from "../domain/leaderboards";
import { moveBetweenGroups } from "./group-moves";

/**
 * Leaderboard standings (leaderboard_entries) and the two tables the consumer keeps beside them: users per
 * score (ranks without counting entries) and participants per board period (with when it ends and whether it
 * is closed: a closed period's standings are final and list only its kept top entries).
 */

/** One user's score on one board period, as a consumer applies it. */
export type StandingRow = {
  projectKey: string;
  leaderboardId: string;
  calendar: string;
  period: number;
  userId: string;
  score: number;
  reachedAt: number;
  seq: number;
};

/**
 * The standings of this batch that change something: per board period and user only the newest in the batch,
 * and only if newer than the stored one (a redelivered or reordered message changes nothing). The statements
 * below run in one D1 batch and all see this set before the entries are updated.
 */
const CHANGES = `
WITH incoming AS (
  SELECT value ->> '$.projectKey' AS project_key, value ->> '$.leaderboardId' AS leaderboard_id,
         value ->> '$.calendar' AS calendar, value ->> '$.period' AS period, value ->> '$.userId' AS user_id,
         value ->> '$.score' AS score, value ->> '$.reachedAt' AS reached_at, value ->> '$.seq' AS seq, value ->> '$.endsAt' AS ends_at,
         ROW_NUMBER() OVER (
           PARTITION BY value ->> '$.projectKey', value ->> '$.leaderboardId', value ->> '$.calendar', value ->> '$.period', value ->> '$.userId'
           ORDER BY value ->> '$.seq' DESC
         ) AS newest
  FROM json_each(?1)
),
changes AS (
  SELECT i.project_key, i.leaderboard_id, i.calendar, i.period, i.user_id, i.score, i.reached_at, i.seq, i.ends_at, e.score AS old_score
  FROM incoming i
  LEFT JOIN leaderboard_entries e
    ON e.project_key = i.project_key AND e.leaderboard_id = i.leaderboard_id AND e.calendar = i.calendar
   AND e.period = i.period AND e.user_id = i.user_id
  WHERE i.newest = 1 AND (e.seq IS NULL OR i.seq > e.seq)
    -- A closed period is final (its entries below the kept ones are gone, so a move could not be counted right).
    AND NOT EXISTS (SELECT 1 FROM leaderboard_periods p
                    WHERE p.project_key = i.project_key AND p.leaderboard_id = i.leaderboard_id AND p.calendar = i.calendar
                      AND p.period = i.period AND p.closed_at IS NOT NULL)
)`;

const BOARD = "project_key, leaderboard_id, calendar, period";

const MOVE_SCORE_COUNTS = moveBetweenGroups({
  changes: CHANGES,
  table: "leaderboard_score_counts",
  keys: ["project_key", "leaderboard_id", "calendar", "period"],
  group: { column: "score", value: "score", oldValue: "old_score" },
  count: "users",
});

const COUNT_NEW_PARTICIPANTS = `${CHANGES}
INSERT INTO leaderboard_periods (${BOARD}, participants, ends_at)
SELECT ${BOARD}, COUNT(*), MAX(ends_at) FROM changes WHERE old_score IS NULL GROUP BY ${BOARD}
ON CONFLICT (${BOARD}) DO UPDATE SET participants = participants + excluded.participants`;

/** Scores nobody holds any more are dropped, so ranks sum only over scores someone has. */
const DROP_EMPTY_SCORES = `${CHANGES}
DELETE FROM leaderboard_score_counts
WHERE users = 0 AND (${BOARD}, score) IN (SELECT ${BOARD}, old_score FROM changes WHERE old_score IS NOT NULL)`;

const UPSERT_ENTRIES = `${CHANGES}
INSERT INTO leaderboard_entries (${BOARD}, user_id, score, reached_at, seq)
SELECT ${BOARD}, user_id, score, reached_at, seq FROM changes WHERE true
ON CONFLICT (${BOARD}, user_id) DO UPDATE SET score = excluded.score, reached_at = excluded.reached_at, seq = excluded.seq`;

/**
 * The statements applying standings (4, whatever their number); run them in the ingest's D1 batch. Standings
 * of a closed period change nothing. Each row carries when its period ends (for the period's row).
 */
export function recordStandings(d1: D1Database, standings: readonly StandingRow[]): D1PreparedStatement[] {
  if (standings.length === 0) return [];
  const ends = new Map<string, number | null>();
  const endsAt = (row: StandingRow) => {
    const key = `${row.calendar}#${row.period}`;
    if (!ends.has(key)) ends.set(key, periodEndsAt(row.calendar, row.period));
    return ends.get(key)!;
  };
  const json = JSON.stringify(standings.map((row) => ({ ...row, endsAt: endsAt(row) })));
  return [MOVE_SCORE_COUNTS, COUNT_NEW_PARTICIPANTS, DROP_EMPTY_SCORES, UPSERT_ENTRIES].map((sql) => d1.prepare(sql).bind(json));
}

/** A board period: the leaderboard, its calendar and the period number. */
export type BoardPeriod = { projectKey: string; leaderboardId: string; calendar: string; period: number };

const ORDER = "ORDER BY score DESC, reached_at, user_id";
const WHERE_BOARD = "project_key = ?1 AND leaderboard_id = ?2 AND calendar = ?3 AND period = ?4";

/** An entry of a board in rank order, with what orders it among equal scores. */
export type BoardEntry = { userId: string; score: number; reachedAt: number };

/**
 * Where a board page starts: `offset` entries in (bounded), or right after an entry (a cursor) that is
 * `position` entries in.
 */
export type StandingsStart = { offset: number } | { after: { score: number; reachedAt: number; userId: string }; position: number };

/** A closed board period: when the job closed it and how many top entries it keeps listing. */
export type Closure = { closedAt: number; keptEntries: number };

/**
 * A page's LIMIT: `limit`, but on a closed period never past its kept entries (the ones below may still be
 * there while the job deletes them, and must not show): `limit` and `position` are the parameters' names.
 */
const keptLimit = (limit: string, position: string) =>
  `MIN(${limit}, MAX(0, COALESCE((SELECT kept_entries FROM leaderboard_periods WHERE ${WHERE_BOARD}), ${limit} + ${position}) - ${position}))`;

const closureOf = (row: { closedAt: number | null; keptEntries: number | null } | undefined): Closure | null =>
  row?.closedAt != null && row.keptEntries != null ? { closedAt: row.closedAt, keptEntries: row.keptEntries } : null;

/** Board order for rows SQL already ordered within each part (a stable sort keeps its user id order for ties). */
const byBoardOrder = (a: BoardEntry, b: BoardEntry) => b.score - a.score || a.reachedAt - b.reachedAt;

/**
 * A page of a board in rank order and the participants, in one D1 round trip. By offset, the page walks the
 * offset's index entries once (bounded by MAX_LEADERBOARD_OFFSET) and `firstRank` is the competition rank of its
 * first entry (1 + the users over the distinct scores above it). After an entry (keyset paging), two index
 * ranges of `limit` entries in all: the rest of that entry's score, then the scores below it, O(limit + log n)
 * however deep, as much as a first page; the caller knows the ranks from its cursor (`firstRank` is null).
 * A closed period's pages end at its kept entries (`closure`).
 */
export async function readStandingsPage(
  d1: D1Database,
  board: BoardPeriod,
  limit: number,
  start: StandingsStart,
): Promise<{ entries: BoardEntry[]; firstRank: number | null; participants: number; closure: Closure | null }> {
  const bind = (sql: string, ...extra: unknown[]) => d1.prepare(sql).bind(board.projectKey, board.leaderboardId, board.calendar, board.period, ...extra);
  const COLUMNS = "user_id AS userId, score, reached_at AS reachedAt";
  const page =
    "offset" in start
      ? bind(
          `WITH page AS MATERIALIZED (SELECT ${COLUMNS} FROM leaderboard_entries WHERE ${WHERE_BOARD} ${ORDER} LIMIT ${keptLimit("?5", "?6")} OFFSET ?6)
           SELECT userId, score, reachedAt,
                  (SELECT 1 + COALESCE(SUM(users), 0) FROM leaderboard_score_counts
                    WHERE ${WHERE_BOARD} AND score > (SELECT MAX(score) FROM page)) AS firstRank
           FROM page`,
          limit,
          start.offset,
        )
      : bind(
          // The rest of that score, then the scores below: SQLite runs a UNION ALL's parts in order and stops at
          // the LIMIT, so the second range reads only what the first left room for.
          `SELECT * FROM (SELECT ${COLUMNS} FROM leaderboard_entries WHERE ${WHERE_BOARD} AND score = ?5 AND (reached_at, user_id) > (?6, ?7)
                          ORDER BY reached_at, user_id LIMIT ?8)
           UNION ALL
           SELECT * FROM (SELECT ${COLUMNS} FROM leaderboard_entries WHERE ${WHERE_BOARD} AND score < ?5 ${ORDER} LIMIT ?8)
           LIMIT ${keptLimit("?8", "?9")}`,
          start.after.score,
          start.after.reachedAt,
          start.after.userId,
          limit,
          start.position,
        );
  const [entries, period] = await d1.batch([
    page,
    bind(`SELECT participants, closed_at AS closedAt, kept_entries AS keptEntries FROM leaderboard_periods WHERE ${WHERE_BOARD}`),
  ]);
  const rows = (entries?.results ?? []) as Array<BoardEntry & { firstRank?: number }>;
  const state = period?.results[0] as { participants: number; closedAt: number | null; keptEntries: number | null } | undefined;
  return {
    entries: rows
      .map(({ userId, score, reachedAt }) => ({ userId, score, reachedAt }))
      .sort(byBoardOrder)
      .slice(0, limit),
    firstRank: "offset" in start ? (rows[0]?.firstRank ?? 1) : null,
    participants: state?.participants ?? 0,
    closure: closureOf(state),
  };
}

/**
 * One user's entry on a board period and the period's closure, in one D1 round trip: the score and competition
 * rank (null without an entry) and whether it is `listed` (on a closed period: among the kept entries, found
 * by comparing with the last kept one, a walk of at most the kept entries; the entries below may still be there
 * while the job deletes them).
 */
export async function readStanding(
  d1: D1Database,
  board: BoardPeriod,
  userId: string,
): Promise<{ standing: { score: number; rank: number; listed: boolean } | null; closure: Closure | null }> {
  const bind = (sql: string, ...extra: unknown[]) => d1.prepare(sql).bind(board.projectKey, board.leaderboardId, board.calendar, board.period, ...extra);
  const KEPT = `(SELECT kept_entries FROM leaderboard_periods WHERE ${WHERE_BOARD})`;
  const [entry, period, lastKept] = await d1.batch([
    bind(
      `SELECT e.score AS score, e.reached_at AS reachedAt, e.user_id AS userId,
              1 + (SELECT COALESCE(SUM(users), 0) FROM leaderboard_score_counts WHERE ${WHERE_BOARD} AND score > e.score) AS rank
       FROM leaderboard_entries e
       WHERE e.project_key = ?1 AND e.leaderboard_id = ?2 AND e.calendar = ?3 AND e.period = ?4 AND e.user_id = ?5`,
      userId,
    ),
    bind(`SELECT closed_at AS closedAt, kept_entries AS keptEntries FROM leaderboard_periods WHERE ${WHERE_BOARD}`),
    // Nothing unless the period is closed. The condition is the LIMIT (0 while open), not a WHERE term: SQLite
    // skips a LIMIT 0 query at once, but walks every entry of the board testing a WHERE that is false for all.
    bind(
      `SELECT score, reached_at AS reachedAt, user_id AS userId FROM leaderboard_entries
       WHERE ${WHERE_BOARD} ${ORDER} LIMIT (CASE WHEN COALESCE(${KEPT}, 0) > 0 THEN 1 ELSE 0 END) OFFSET COALESCE(${KEPT} - 1, 0)`,
    ),
  ]);
  const row = entry?.results[0] as (BoardEntry & { rank: number }) | undefined;
  const closure = closureOf(period?.results[0] as { closedAt: number | null; keptEntries: number | null } | undefined);
  if (!row) return { standing: null, closure };
  const last = lastKept?.results[0] as BoardEntry | undefined;
  const listed =
    closure === null ||
    (closure.keptEntries > 0 && (last === undefined || byBoardOrder(row, last) < 0 || (byBoardOrder(row, last) === 0 && row.userId <= last.userId)));
  return { standing: { score: row.score, rank: row.rank, listed }, closure };
}

/** The competition rank a score has on a board period: 1 + the users with a higher score (from the histogram). */
export async function rankOfScore(d1: D1Database, board: BoardPeriod, score: number): Promise<number> {
  const row = await d1
    .prepare(`SELECT 1 + COALESCE(SUM(users), 0) AS rank FROM leaderboard_score_counts WHERE ${WHERE_BOARD} AND score > ?5`)
    .bind(board.projectKey, board.leaderboardId, board.calendar, board.period, score)
    .first<{ rank: number }>();
  return row?.rank ?? 1;
}

/** A closed board period whose entries below the kept ones are still being deleted. */
export type TrimmingPeriod = BoardPeriod & { keptEntries: number };

/**
 * Closes up to `limit` open board periods that ended at or before `endedBy`, oldest end first (an index range
 * of the open periods): their standings become final, `keepEntries` of them stay listed. A period with no
 * more participants than that has nothing to delete and is trimmed at once. Returns how many were closed.
 */
export async function closeEndedPeriods(d1: D1Database, endedBy: number, now: number, keepEntries: number, limit: number): Promise<number> {
  const result = await d1
    .prepare(
      `UPDATE leaderboard_periods
       SET closed_at = ?2, kept_entries = ?3, trimmed_at = CASE WHEN participants <= ?3 THEN ?2 END
       WHERE rowid IN (SELECT rowid FROM leaderboard_periods INDEXED BY leaderboard_periods_open
                       WHERE closed_at IS NULL AND ends_at IS NOT NULL AND ends_at <= ?1 ORDER BY ends_at LIMIT ?4)`,
    )
    .bind(endedBy, now, keepEntries, limit)
    .run();
  return result.meta.changes;
}

/** Up to `limit` closed periods still being trimmed, those closed first first. */
export async function periodsBeingTrimmed(d1: D1Database, limit: number): Promise<TrimmingPeriod[]> {
  const rows = await d1
    .prepare(
      `SELECT project_key AS projectKey, leaderboard_id AS leaderboardId, calendar, period, kept_entries AS keptEntries
       FROM leaderboard_periods INDEXED BY leaderboard_periods_trimming
       WHERE closed_at IS NOT NULL AND trimmed_at IS NULL ORDER BY closed_at LIMIT ?1`,
    )
    .bind(limit)
    .all<TrimmingPeriod>();
  return rows.results;
}

/**
 * Deletes up to `chunk` entries of a closed period below its kept ones (the board order's index: it walks
 * the kept entries, then the chunk), and marks the period trimmed when fewer than `chunk` were left. The
 * score histogram and the participant count stay as they are. Returns how many entries were deleted.
 */
export async function trimClosedPeriod(d1: D1Database, board: TrimmingPeriod, chunk: number, now: number): Promise<number> {
  const bind = (sql: string, ...extra: unknown[]) => d1.prepare(sql).bind(board.projectKey, board.leaderboardId, board.calendar, board.period, ...extra);
  const deleted = await bind(
    `DELETE FROM leaderboard_entries WHERE rowid IN (
       SELECT rowid FROM leaderboard_entries WHERE ${WHERE_BOARD} ${ORDER} LIMIT ?5 OFFSET ?6)`,
    chunk,
    board.keptEntries,
  ).run();
  const changes = deleted.meta.changes;
  if (changes < chunk) await bind(`UPDATE leaderboard_periods SET trimmed_at = ?5 WHERE ${WHERE_BOARD}`, now).run();
  return changes;
}

/** A closed board period whose leaderboard.period_closed event was not handed over yet. */
export type UnannouncedPeriod = BoardPeriod & { participants: number; closedAt: number };

/** Up to `limit` closed periods not announced yet, those closed first first (an index range of them alone). */
export async function unannouncedPeriods(d1: D1Database, limit: number): Promise<UnannouncedPeriod[]> {
  const rows = await d1
    .prepare(
      `SELECT project_key AS projectKey, leaderboard_id AS leaderboardId, calendar, period, participants, closed_at AS closedAt
       FROM leaderboard_periods INDEXED BY leaderboard_periods_unannounced
       WHERE closed_at IS NOT NULL AND announced_at IS NULL ORDER BY closed_at LIMIT ?1`,
    )
    .bind(limit)
    .all<UnannouncedPeriod>();
  return rows.results;
}

/**
 * The top `n` entries of each board period, in board order (on a closed period never past its kept entries),
 * in one D1 round trip; each list's first entry has rank 1.
 */
export async function topEntries(d1: D1Database, boards: readonly BoardPeriod[], n: number): Promise<BoardEntry[][]> {
  if (boards.length === 0) return [];
  const results = await d1.batch<BoardEntry>(
    boards.map((board) =>
      d1
        .prepare(
          `SELECT user_id AS userId, score, reached_at AS reachedAt FROM leaderboard_entries WHERE ${WHERE_BOARD} ${ORDER} LIMIT ${keptLimit("?5", "0")}`,
        )
        .bind(board.projectKey, board.leaderboardId, board.calendar, board.period, n),
    ),
  );
  return results.map((result) => result.results);
}

/** Marks board periods announced (those not announced yet; one statement). */
export async function markAnnounced(d1: D1Database, boards: readonly BoardPeriod[], now: number): Promise<void> {
  if (boards.length === 0) return;
  const keys = JSON.stringify(boards.map(({ projectKey, leaderboardId, calendar, period }) => [projectKey, leaderboardId, calendar, period]));
  await d1
    .prepare(
      `UPDATE leaderboard_periods SET announced_at = ?2
       WHERE announced_at IS NULL AND rowid IN (
         SELECT p.rowid FROM json_each(?1) k JOIN leaderboard_periods p
           ON p.project_key = k.value ->> '$[0]' AND p.leaderboard_id = k.value ->> '$[1]'
          AND p.calendar = k.value ->> '$[2]' AND p.period = k.value ->> '$[3]')`,
    )
    .bind(keys, now)
    .run();
}
