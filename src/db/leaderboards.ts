import { moveBetweenGroups } from "./group-moves";

/**
 * Leaderboard standings (leaderboard_entries) and the two tables the consumer keeps beside them: users per
 * score (ranks without counting entries) and participants per board period.
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
         value ->> '$.score' AS score, value ->> '$.reachedAt' AS reached_at, value ->> '$.seq' AS seq,
         ROW_NUMBER() OVER (
           PARTITION BY value ->> '$.projectKey', value ->> '$.leaderboardId', value ->> '$.calendar', value ->> '$.period', value ->> '$.userId'
           ORDER BY value ->> '$.seq' DESC
         ) AS newest
  FROM json_each(?1)
),
changes AS (
  SELECT i.project_key, i.leaderboard_id, i.calendar, i.period, i.user_id, i.score, i.reached_at, i.seq, e.score AS old_score
  FROM incoming i
  LEFT JOIN leaderboard_entries e
    ON e.project_key = i.project_key AND e.leaderboard_id = i.leaderboard_id AND e.calendar = i.calendar
   AND e.period = i.period AND e.user_id = i.user_id
  WHERE i.newest = 1 AND (e.seq IS NULL OR i.seq > e.seq)
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
INSERT INTO leaderboard_periods (${BOARD}, participants)
SELECT ${BOARD}, COUNT(*) FROM changes WHERE old_score IS NULL GROUP BY ${BOARD}
ON CONFLICT (${BOARD}) DO UPDATE SET participants = participants + excluded.participants`;

/** Scores nobody holds any more are dropped, so ranks sum only over scores someone has. */
const DROP_EMPTY_SCORES = `${CHANGES}
DELETE FROM leaderboard_score_counts
WHERE users = 0 AND (${BOARD}, score) IN (SELECT ${BOARD}, old_score FROM changes WHERE old_score IS NOT NULL)`;

const UPSERT_ENTRIES = `${CHANGES}
INSERT INTO leaderboard_entries (${BOARD}, user_id, score, reached_at, seq)
SELECT ${BOARD}, user_id, score, reached_at, seq FROM changes WHERE true
ON CONFLICT (${BOARD}, user_id) DO UPDATE SET score = excluded.score, reached_at = excluded.reached_at, seq = excluded.seq`;

/** The statements applying standings (4, whatever their number); run them in the ingest's D1 batch. */
export function recordStandings(d1: D1Database, standings: readonly StandingRow[]): D1PreparedStatement[] {
  if (standings.length === 0) return [];
  const json = JSON.stringify(standings);
  return [MOVE_SCORE_COUNTS, COUNT_NEW_PARTICIPANTS, DROP_EMPTY_SCORES, UPSERT_ENTRIES].map((sql) => d1.prepare(sql).bind(json));
}

/** A board period: the leaderboard, its calendar and the period number. */
export type BoardPeriod = { projectKey: string; leaderboardId: string; calendar: string; period: number };

const ORDER = "ORDER BY score DESC, reached_at, user_id";
const WHERE_BOARD = "project_key = ?1 AND leaderboard_id = ?2 AND calendar = ?3 AND period = ?4";

/** An entry of a board in rank order, with what orders it among equal scores. */
export type BoardEntry = { userId: string; score: number; reachedAt: number };

/** Where a board page starts: `offset` entries in (bounded), or right after an entry (a cursor). */
export type StandingsStart = { offset: number } | { after: { score: number; reachedAt: number; userId: string } };

/** Board order for rows SQL already ordered within each part (a stable sort keeps its user id order for ties). */
const byBoardOrder = (a: BoardEntry, b: BoardEntry) => b.score - a.score || a.reachedAt - b.reachedAt;

/**
 * A page of a board in rank order and the participants, in one D1 round trip. By offset, the page walks the
 * offset's index entries once (bounded by MAX_LEADERBOARD_OFFSET) and `firstRank` is the competition rank of its
 * first entry (1 + the users over the distinct scores above it). After an entry (keyset paging), two index
 * ranges of `limit` entries in all: the rest of that entry's score, then the scores below it, O(limit + log n)
 * however deep, as much as a first page; the caller knows the ranks from its cursor (`firstRank` is null).
 */
export async function readStandingsPage(
  d1: D1Database,
  board: BoardPeriod,
  limit: number,
  start: StandingsStart,
): Promise<{ entries: BoardEntry[]; firstRank: number | null; participants: number }> {
  const bind = (sql: string, ...extra: unknown[]) => d1.prepare(sql).bind(board.projectKey, board.leaderboardId, board.calendar, board.period, ...extra);
  const COLUMNS = "user_id AS userId, score, reached_at AS reachedAt";
  const page =
    "offset" in start
      ? bind(
          `WITH page AS MATERIALIZED (SELECT ${COLUMNS} FROM leaderboard_entries WHERE ${WHERE_BOARD} ${ORDER} LIMIT ?5 OFFSET ?6)
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
           LIMIT ?8`,
          start.after.score,
          start.after.reachedAt,
          start.after.userId,
          limit,
        );
  const [entries, participants] = await d1.batch([page, bind(`SELECT participants FROM leaderboard_periods WHERE ${WHERE_BOARD}`)]);
  const rows = (entries?.results ?? []) as Array<BoardEntry & { firstRank?: number }>;
  return {
    entries: rows.map(({ userId, score, reachedAt }) => ({ userId, score, reachedAt })).sort(byBoardOrder).slice(0, limit),
    firstRank: "offset" in start ? (rows[0]?.firstRank ?? 1) : null,
    participants: (participants?.results[0] as { participants: number } | undefined)?.participants ?? 0,
  };
}

/** One user's score and competition rank on a board period; null when the user has no score there. */
export async function readStanding(d1: D1Database, board: BoardPeriod, userId: string): Promise<{ score: number; rank: number } | null> {
  const row = await d1
    .prepare(
      `SELECT e.score AS score,
              1 + (SELECT COALESCE(SUM(users), 0) FROM leaderboard_score_counts WHERE ${WHERE_BOARD} AND score > e.score) AS rank
       FROM leaderboard_entries e
       WHERE e.project_key = ?1 AND e.leaderboard_id = ?2 AND e.calendar = ?3 AND e.period = ?4 AND e.user_id = ?5`,
    )
    .bind(board.projectKey, board.leaderboardId, board.calendar, board.period, userId)
    .first<{ score: number; rank: number }>();
  return row ?? null;
}
