import { z } from "@hono/zod-openapi";
import type { Db } from "../db/client";
import {
  closeEndedPeriods,
  markAnnounced,
  periodsBeingTrimmed,
  rankOfScore,
  readStanding,
  readStandingsPage,
  topEntries,
  trimClosedPeriod,
  unannouncedPeriods,
  type BoardPeriod,
  type Closure,
} from "../db/leaderboards";
import { userStateStub } from "../durable/stub";
import { calendarKey, periodCalendar, type LeaderboardDefinition } from "../domain/game-definitions";
import { boardWindow, CLOSED_PERIOD_GRACE_MS, CLOSED_PERIOD_KEPT_ENTRIES, competitionRanks, type BoardWindow } from "../domain/leaderboards";
import { ApiError, invalidFields } from "../http/errors";
import { callUserObject } from "../http/user-object-errors";
import { periodClosedEvent } from "../domain/webhook-events";
import { decodeCursor, encodeCursor } from "../lib/cursor";
import { projectCatalogue } from "./definitions";
import { sendWebhookEvents } from "./webhook-emission";
import { subscribedTypes } from "./webhook-subscriptions";

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

/** Whether the period is closed (final, listing only its kept top entries), as answers say it. */
const closureFields = (closure: Closure | null) => ({ closed: closure !== null, keptEntries: closure?.keptEntries ?? null });

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
  const start = after ? { after: { score: after.s, reachedAt: after.r, userId: after.u }, position: after.n } : { offset: query.offset };
  const page = await readStandingsPage(db.$client, key, query.limit + 1, start);
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
      ...closureFields(page.closure),
      entries: ranked.map(({ rank, userId, score }) => ({ rank, userId, score })),
    },
    nextCursor: next === null ? null : encodeCursor(next),
  };
}

/**
 * One user's place on a board period; `entry` is null when the user has no score there. On a closed period a
 * user below the kept entries has no entry in D1 any more: the user's own object still holds its score for the
 * period, and the rank is 1 + the users with a higher score, from the score histogram (`listed: false`: the
 * user's place among equal scores is not kept). A score the object changed after the period closed (a late
 * backfill or refund; the closed board no longer moves) is ranked against the closed board the same way.
 */
export async function leaderboardEntry(env: Env, db: Db, projectKey: string, leaderboardId: string, userId: string, periodStart?: string) {
  const { board, window, key } = await boardPeriod(db, projectKey, leaderboardId, periodStart);
  const { standing, closure } = await readStanding(db.$client, key, userId);
  const answer = (entry: { rank: number; score: number; listed: boolean } | null) => ({
    ...windowOf(board, window),
    ...closureFields(closure),
    entry: entry && { rank: entry.rank, userId, score: entry.score, listed: entry.listed },
  });
  if (standing || closure === null) return answer(standing);
  const held = await callUserObject(() => userStateStub(env, projectKey, userId).boardScore(key.leaderboardId, key.calendar, key.period));
  if (held === null) return answer(null);
  return answer({ rank: await rankOfScore(db.$client, key, held.score), score: held.score, listed: false });
}

/** What one run of the closing job may do; the production defaults are the documented ones. */
export type ClosingOptions = {
  /** How long after its end a period is closed. */
  graceMs?: number;
  /** How many top entries a closed period keeps listing. */
  keepEntries?: number;
  /** Periods closed per run (one UPDATE). */
  maxClosed?: number;
  /** Entries deleted per statement. */
  chunk?: number;
  /** Entries deleted per run, over all periods. */
  maxDeleted?: number;
  /** Closed periods worked on per run (a statement or two each at least). */
  maxTrimmed?: number;
};

/**
 * The scheduled closing of ended board periods (src/services/scheduled.ts, every 10 minutes): closes up to
 * `maxClosed` periods that ended more than the grace period ago (their standings become final; a period with
 * no more participants than it keeps is done at once), then deletes the entries below the kept ones of closed
 * periods, `chunk` per statement and at most `maxDeleted` per run, carrying on in the next run. The score
 * histogram and participant counts are kept. Bounded: at most 2 + maxDeleted / chunk + 2 × maxTrimmed D1
 * statements per run.
 */
export async function closeLeaderboardPeriods(d1: D1Database, now: number = Date.now(), options: ClosingOptions = {}) {
  const graceMs = options.graceMs ?? CLOSED_PERIOD_GRACE_MS;
  const keepEntries = options.keepEntries ?? CLOSED_PERIOD_KEPT_ENTRIES;
  const chunk = Math.max(1, options.chunk ?? 1_000);
  const maxDeleted = options.maxDeleted ?? 10_000;
  const closed = await closeEndedPeriods(d1, now - graceMs, now, keepEntries, options.maxClosed ?? 500);
  let deleted = 0;
  let trimmed = 0;
  for (const period of await periodsBeingTrimmed(d1, options.maxTrimmed ?? 20)) {
    for (;;) {
      if (deleted >= maxDeleted) return { closed, deleted, trimmed };
      // A smaller last chunk deletes exactly what the budget allows; a chunk that finds fewer marks the period done.
      const size = Math.min(chunk, maxDeleted - deleted);
      const n = await trimClosedPeriod(d1, period, size, now);
      deleted += n;
      if (n < size) {
        trimmed++;
        break;
      }
    }
  }
  return { closed, deleted, trimmed };
}

/** How many entries leaderboard.period_closed lists. */
export const ANNOUNCED_TOP = 10;

/**
 * Announces closed board periods (the scheduled work, after closing): up to `limit` periods not announced yet,
 * those closed first first. Periods of projects subscribed to leaderboard.period_closed get the event with
 * their top 10 (one D1 round trip for all of them), handed to the webhooks queue; then every period of the
 * chunk is marked announced (unsubscribed projects' at once). A failure before the mark leaves them for the
 * next run, which sends the same event ids again (at least once; deliveries deduplicate). A project whose
 * subscriptions cannot be read now is left for the next run. Bounded: 4 D1 round trips per run at most.
 */
export async function announceClosedPeriods(env: Env, now: number = Date.now(), limit = 100): Promise<{ announced: number; sent: number }> {
  const periods = await unannouncedPeriods(env.DB, limit);
  if (periods.length === 0) return { announced: 0, sent: 0 };
  const projects = [...new Set(periods.map((period) => period.projectKey))];
  const lookups = await Promise.allSettled(projects.map((projectKey) => subscribedTypes(env, projectKey)));
  const subscribed = new Map(projects.map((projectKey, i) => [projectKey, lookups[i]!]));
  const known = periods.filter((period) => subscribed.get(period.projectKey)!.status === "fulfilled");
  const wanted = known.filter((period) => {
    const lookup = subscribed.get(period.projectKey)!;
    return lookup.status === "fulfilled" && lookup.value.has("leaderboard.period_closed");
  });
  const tops = await topEntries(env.DB, wanted, ANNOUNCED_TOP);
  const events = wanted.map((period, i) => periodClosedEvent({ ...period, top: competitionRanks(tops[i]!, 1, 0) }));
  await sendWebhookEvents(env, events);
  await markAnnounced(env.DB, known, now);
  return { announced: known.length, sent: events.length };
}
