import type { Db } from "../db/client";
import { readStanding, readStandingsPage, type BoardPeriod } from "../db/leaderboards";
import { calendarKey, periodCalendar, type LeaderboardDefinition } from "../domain/game-definitions";
import { boardWindow, competitionRanks, type BoardWindow } from "../domain/leaderboards";
import { ApiError, invalidFields } from "../http/errors";
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

/** A page of a board's standings in rank order (competition ranking; equal scores by who reached them first). */
export async function leaderboardPage(
  d1: D1Database,
  db: Db,
  projectKey: string,
  leaderboardId: string,
  query: { limit: number; offset: number; periodStart?: string },
) {
  const { board, window, key } = await boardPeriod(db, projectKey, leaderboardId, query.periodStart);
  const page = await readStandingsPage(d1, key, query);
  return {
    ...windowOf(board, window),
    title: board.title,
    periodEnd: window.periodEnd,
    totalParticipants: page.participants,
    entries: competitionRanks(page.entries, page.firstRank, query.offset).map(({ rank, userId, score }) => ({ rank, userId, score })),
  };
}

/** One user's place on a board period; `entry` is null when the user has no score there. */
export async function leaderboardEntry(d1: D1Database, db: Db, projectKey: string, leaderboardId: string, userId: string, periodStart?: string) {
  const { board, window, key } = await boardPeriod(db, projectKey, leaderboardId, periodStart);
  const standing = await readStanding(d1, key, userId);
  return { ...windowOf(board, window), entry: standing ? { rank: standing.rank, userId, score: standing.score } : null };
}
