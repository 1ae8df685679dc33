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

/**
 * A page of a board in rank order, with the competition rank of its first entry and the participants, in one
 * D1 round trip. The page is an index range; the rank sums users over the distinct scores above.
 */
export async function readStandingsPage(
  d1: D1Database,
  board: BoardPeriod,
  page: { limit: number; offset: number },
): Promise<{ entries: Array<{ userId: string; score: number }>; firstRank: number; participants: number }> {
  const bind = (sql: string, ...extra: unknown[]) => d1.prepare(sql).bind(board.projectKey, board.leaderboardId, board.calendar, board.period, ...extra);
  const [entries, rank, participants] = await d1.batch([
    bind(`SELECT user_id AS userId, score FROM leaderboard_entries WHERE ${WHERE_BOARD} ${ORDER} LIMIT ?5 OFFSET ?6`, page.limit, page.offset),
    bind(
      `SELECT 1 + COALESCE(SUM(users), 0) AS rank FROM leaderboard_score_counts WHERE ${WHERE_BOARD}
         AND score > (SELECT score FROM leaderboard_entries WHERE ${WHERE_BOARD} ${ORDER} LIMIT 1 OFFSET ?5)`,
      page.offset,
    ),
    bind(`SELECT participants FROM leaderboard_periods WHERE ${WHERE_BOARD}`),
  ]);
  return {
    entries: (entries?.results ?? []) as Array<{ userId: string; score: number }>,
    firstRank: (rank?.results[0] as { rank: number } | undefined)?.rank ?? 1,
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
