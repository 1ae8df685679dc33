import { z } from "@hono/zod-openapi";
import type { Db } from "../db/client";
import { readStanding, readStandingsPage, type BoardPeriod } from "../db/leaderboards";
import { calendarKey, periodCalendar, type LeaderboardDefinition } from "../domain/game-definitions";
import { boardWindow, competitionRanks, type BoardWindow } from "../domain/leaderboards";
import { ApiError, invalidFields } from "../http/errors";
import { decodeCursor, encodeCursor } from "../lib/cursor";
import { projectCatalogue } from "./definitions";

async function boardOf(db: Db, projectKey: string, leaderboardId: string): Promise<LeaderboardDefinition> {
  const board = (await projectCatalogue(db, projectKey)).leaderboards.get(leaderboardId);
  if (!board) throw new ApiError(404, `Leaderboard ${leaderboardId} does not exist in this project`);
  return board;
}

/** The board, the period asked for (400 naming periodStart when it is not one) and its key in the standings. */
async function boardPeriod(db: Db, projectKey: string, leaderboardId: string, periodStart: string | undefined) {
  const board = await boardOf(db, projectKey, leaderboardId);
  const calendar = periodCalendar(board);
  const window = boardWindow(calendar, periodStart, Date.now());
  if (typeof window === "string") throw invalidFields("query", [{ path: "periodStart", message: window }]);
  const key: BoardPeriod = { projectKey, leaderboardId, calendar: calendarKey(calendar), period: window.period };
  return { board, window, key };
}

const windowOf = (board: LeaderboardDefinition, window: BoardWindow) => ({
  leaderboardId: board.leaderboardId,
  period: board.period,
  periodStart: window.periodStart,
});

const BoardCursorSchema = z.strictObject({
  c: z.string().max(200),
  p: z.number().int(),
  s: z.number().int(),
  r: z.number().int(),
  u: z.string().max(255),
  n: z.number().int().min(0),
  k: z.number().int().min(1),
});
type BoardCursor = z.infer<typeof BoardCursorSchema>;

/**
 * A page of a board's standings in rank order (competition ranking; equal scores by who reached them first),
 * and the cursor continuing after it when more entries follow. A cursor carries the board period, its last
 * entry and that entry's rank and position, so the next page needs no rank query: O(limit + log n) at any depth.
 */
export async function leaderboardPage(
  d1: D1Database,
  db: Db,
  projectKey: string,
  leaderboardId: string,
  query: { limit: number; offset: number; periodStart?: string; cursor?: string },
) {
  const { board, window, key } = await boardPeriod(db, projectKey, leaderboardId, query.periodStart);
  let after: BoardCursor | null = null;
  if (query.cursor !== undefined) {
    after = decodeCursor(query.cursor, BoardCursorSchema);
    if (after === null) throw invalidFields("query", [{ path: "cursor", message: "is not a cursor this API issued" }]);
    if (after.c !== key.calendar || after.p !== key.period) {
      const message = "belongs to another period of this board; send the periodStart of the link that carried it";
      throw invalidFields("query", [{ path: "cursor", message }]);
    }
  }
  // One more than the page: whether a next page exists.
  const start = after ? { after: { score: after.s, reachedAt: after.r, userId: after.u } } : { offset: query.offset };
  const page = await readStandingsPage(d1, key, query.limit + 1, start);
  const entries = page.entries.slice(0, query.limit);
  const position = after ? after.n : query.offset;
  const firstRank = after ? (entries[0]?.score === after.s ? after.k : position + 1) : page.firstRank!;
  const ranked = competitionRanks(entries, firstRank, position);
  const last = page.entries.length > query.limit ? ranked.at(-1) : undefined;
  const next: BoardCursor | null = last
    ? { c: key.calendar, p: key.period, s: last.score, r: last.reachedAt, u: last.userId, n: position + entries.length, k: last.rank }
    : null;
  return {
    standings: {
      ...windowOf(board, window),
      title: board.title,
      periodEnd: window.periodEnd,
      totalParticipants: page.participants,
      entries: ranked.map(({ rank, userId, score }) => ({ rank, userId, score })),
    },
    nextCursor: next === null ? null : encodeCursor(next),
  };
}

/** One user's place on a board period; `entry` is null when the user has no score there. */
export async function leaderboardEntry(d1: D1Database, db: Db, projectKey: string, leaderboardId: string, userId: string, periodStart?: string) {
  const { board, window, key } = await boardPeriod(db, projectKey, leaderboardId, periodStart);
  const standing = await readStanding(d1, key, userId);
  return { ...windowOf(board, window), entry: standing ? { rank: standing.rank, userId, score: standing.score } : null };
}
