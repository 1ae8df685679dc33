import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { getDb } from "../../src/db/client";
import { rankOfScore, readStanding, recordStandings, type BoardPeriod, type StandingRow } from "../../src/db/leaderboards";
import { dayToDate, firstDayOfPeriod, periodAt } from "../../src/domain/calendar";
import type { LeaderboardDefinition } from "../../src/domain/game-definitions";
import { CLOSED_PERIOD_GRACE_MS, periodEndsAt } from "../../src/domain/leaderboards";
import type { LoggedEventMessage } from "../../src/domain/logged-event";
import type { StandingsBody, UserEntryBody } from "../../src/routes/leaderboards";
import { closeLeaderboardPeriods, leaderboardPage } from "../../src/services/leaderboards";
import { runScheduledWork } from "../../src/services/scheduled";
import { deliver as deliverToConsumer, loggedEvent } from "../fixtures";
import { api, newProject, POLL, purchaseDefinition, setupProject, userToken, type Credential } from "../helpers";
import { rowsReadD1 } from "../rows-read";

const weeklyPoints = { title: "Weekly points", metric: "points", period: "week" };
const users = { alice: [], bob: [], carol: [], dave: [], erin: [] };

async function boardProject(board: Record<string, unknown> = weeklyPoints, extra: Record<string, unknown> = {}) {
  const project = await setupProject({
    definitions: { purchase_completed: { ...purchaseDefinition, limit: 1000, maximumReward: 100_000 }, review: { title: "Review", reward: { default: 0 } } },
    users,
  });
  expect((await api("PUT", "/v1/admin/leaderboards/board", { auth: project.admin, body: board })).status).toBe(201);
  for (const [id, body] of Object.entries(extra)) expect((await api("PUT", `/v1/admin/${id}`, { auth: project.admin, body })).status).toBe(201);
  return project;
}

const buy = (auth: Credential, userId: string, amount: number, timestamp?: string) =>
  api("POST", "/v1/event", { auth, body: { eventId: "purchase_completed", userId, metadata: { amount }, ...(timestamp ? { timestamp } : {}) } });

const standings = (auth: Credential, query = "") => api<StandingsBody>("GET", `/v1/leaderboards/board${query}`, { auth });

describe("leaderboard definitions", () => {
  it("creates, lists, reads and deactivates; counts need eventIds, points take none", async () => {
    const { admin } = await setupProject();
    const created = await api<LeaderboardDefinition>("PUT", "/v1/admin/leaderboards/b1", { auth: admin, body: weeklyPoints });
    expect(created.status).toBe(201);
    expect(created.json).toEqual({ leaderboardId: "b1", ...weeklyPoints, description: "", status: "ACTIVE", timezone: "UTC" });
    expect((await api<LeaderboardDefinition[]>("GET", "/v1/admin/leaderboards", { auth: admin })).json).toHaveLength(1);
    expect((await api("PUT", "/v1/admin/leaderboards/b2", { auth: admin, body: { ...weeklyPoints, metric: "count" } })).json.errors?.[0]?.path).toBe(
      "eventIds",
    );
    expect((await api("PUT", "/v1/admin/leaderboards/b2", { auth: admin, body: { ...weeklyPoints, eventIds: ["x"] } })).json.errors?.[0]?.path).toBe(
      "eventIds",
    );
    expect((await api("PUT", "/v1/admin/leaderboards/b2", { auth: admin, body: { ...weeklyPoints, period: "year" } })).json.errors?.[0]?.path).toBe("period");
    expect((await api<LeaderboardDefinition>("DELETE", "/v1/admin/leaderboards/b1", { auth: admin })).json.status).toBe("INACTIVE");
  });
});

describe("standings", () => {
  it("rank ties 1, 2, 2, 4, ordering equal scores by who reached them first", async () => {
    const { admin } = await boardProject();
    await buy(admin, "alice", 50);
    await buy(admin, "bob", 30);
    await buy(admin, "carol", 30); // reaches 30 after bob
    await buy(admin, "dave", 10);
    await expect
      .poll(async () => (await standings(admin)).json.entries, POLL)
      .toEqual([
        { rank: 1, userId: "alice", score: 50 },
        { rank: 2, userId: "bob", score: 30 },
        { rank: 2, userId: "carol", score: 30 },
        { rank: 4, userId: "dave", score: 10 },
      ]);
    const board = await standings(admin, "?limit=2&offset=2");
    expect(board.json).toMatchObject({ leaderboardId: "board", title: "Weekly points", period: "week", totalParticipants: 4 });
    expect(board.json.entries).toEqual([
      { rank: 2, userId: "carol", score: 30 },
      { rank: 4, userId: "dave", score: 10 },
    ]);
    expect(new Date(`${board.json.periodStart}T00:00:00Z`).getUTCDay()).toBe(1);
    // Bob passes alice; carol stays behind bob at 30.
    await buy(admin, "bob", 25);
    await expect
      .poll(async () => (await standings(admin)).json.entries.map((e) => `${e.rank}:${e.userId}`), POLL)
      .toEqual(["1:bob", "2:alice", "3:carol", "4:dave"]);
  });

  it("answers one user's rank, null without a score, and only its own to a user token", async () => {
    const { admin, projectId } = await boardProject();
    await buy(admin, "alice", 20);
    await buy(admin, "bob", 40);
    const own = { bearer: await userToken(projectId, "alice") };
    await expect
      .poll(async () => (await api<UserEntryBody>("GET", "/v1/leaderboards/board/users/alice", { auth: own })).json.entry, POLL)
      .toEqual({ rank: 2, userId: "alice", score: 20, listed: true });
    const none = await api<UserEntryBody>("GET", "/v1/leaderboards/board/users/erin", { auth: admin });
    expect(none.json).toMatchObject({ leaderboardId: "board", period: "week", closed: false, keptEntries: null, entry: null });
    expect((await api("GET", "/v1/leaderboards/board/users/bob", { auth: own })).status).toBe(403);
    // Any principal of the project reads the board; another project does not find it.
    expect((await standings(own)).status).toBe(200);
    expect((await standings({ bearer: (await setupProject()).admin.bearer } as Credential)).status).toBe(404);
  });

  it("counts qualifying logs of the listed events on a count board", async () => {
    const { admin } = await boardProject({ title: "Reviews", metric: "count", eventIds: ["review"], period: "all" });
    for (const userId of ["alice", "alice", "bob"]) await api("POST", "/v1/event", { auth: admin, body: { eventId: "review", userId } });
    await buy(admin, "carol", 99);
    await expect
      .poll(async () => (await standings(admin)).json, POLL)
      .toMatchObject({
        period: "all",
        periodStart: null,
        periodEnd: null,
        totalParticipants: 2,
        entries: [
          { rank: 1, userId: "alice", score: 2 },
          { rank: 2, userId: "bob", score: 1 },
        ],
      });
  });

  it("adds challenge bonuses to points boards", async () => {
    const challenge = { title: "Two buys", eventIds: ["purchase_completed"], metric: "count", target: 2, period: "once", rewardPoints: 1000 };
    const { admin } = await boardProject(weeklyPoints, { "challenges/two": challenge });
    await buy(admin, "alice", 5);
    await buy(admin, "alice", 5);
    await expect.poll(async () => (await standings(admin)).json.entries, POLL).toEqual([{ rank: 1, userId: "alice", score: 1010 }]);
  });

  it("cuts weeks at Berlin midnight, keeps past weeks readable, and 400s a periodStart that is not a week's", async () => {
    const { admin } = await boardProject({ ...weeklyPoints, timezone: "Europe/Berlin" });
    // Sunday 23:30 and Monday 00:30 in Berlin (UTC+1): different weekly boards.
    await buy(admin, "alice", 7, "2026-11-15T22:30:00Z");
    await buy(admin, "bob", 9, "2026-11-15T23:30:00Z");
    await expect.poll(async () => (await standings(admin, "?periodStart=2026-11-09")).json.entries, POLL).toEqual([{ rank: 1, userId: "alice", score: 7 }]);
    const next = await standings(admin, "?periodStart=2026-11-16");
    expect(next.json).toMatchObject({ periodStart: "2026-11-16", periodEnd: "2026-11-22", entries: [{ rank: 1, userId: "bob", score: 9 }] });
    const tuesday = await api("GET", "/v1/leaderboards/board?periodStart=2026-11-17", { auth: admin });
    expect(tuesday.status).toBe(400);
    expect(tuesday.json.errors?.[0]?.path).toBe("periodStart");
    expect((await api("GET", "/v1/leaderboards/board?limit=101", { auth: admin })).status).toBe(400);
    expect((await api("GET", "/v1/leaderboards/nope", { auth: admin })).status).toBe(404);
  });

  it("400s an impossible calendar date as periodStart instead of reading the period it rolls over to", async () => {
    const { admin } = await boardProject({ ...weeklyPoints, period: "day" });
    for (const date of ["2026-02-30", "2026-04-31", "2025-02-29", "2026-00-10"]) {
      for (const path of [`/v1/leaderboards/board?periodStart=${date}`, `/v1/leaderboards/board/users/alice?periodStart=${date}`]) {
        const res = await api("GET", path, { auth: admin });
        expect(res.status, `${path}: ${res.text}`).toBe(400);
        expect(res.json.errors?.map((e) => e.path)).toEqual(["periodStart"]);
      }
    }
    // A real day, such as the one 2026-02-30 used to be read as, still answers.
    expect((await standings(admin, "?periodStart=2026-03-02")).json).toMatchObject({ periodStart: "2026-03-02", periodEnd: "2026-03-02" });
  });

  it("is unchanged by a redelivered or reordered consumer batch", async () => {
    const projectKey = newProject();
    const period = periodAt(Date.now(), "week", "UTC");
    const message = (userId: string, seq: number, score: number, reachedAt: number): LoggedEventMessage =>
      loggedEvent(projectKey, {
        userId,
        occurredAt: new Date().toISOString(),
        updates: { seq, streaks: [], standings: [{ leaderboardId: "board", calendar: "week|UTC", period, score, reachedAt }] },
      });
    const messages = [message("u1", 1, 10, 1), message("u1", 2, 20, 2), message("u1", 3, 35, 3), message("u2", 1, 20, 4)];
    const deliver = async (bodies: LoggedEventMessage[]) => expect((await deliverToConsumer(bodies)).retryMessages).toEqual([]);
    const read = async () =>
      (
        await env.DB.prepare(
          `SELECT 'entry' AS t, user_id AS k, score AS v FROM leaderboard_entries WHERE project_key = ?1
           UNION ALL SELECT 'count', score, users FROM leaderboard_score_counts WHERE project_key = ?1
           UNION ALL SELECT 'participants', period, participants FROM leaderboard_periods WHERE project_key = ?1 ORDER BY 1, 2`,
        )
          .bind(projectKey)
          .all()
      ).results;
    await deliver(messages);
    const once = await read();
    expect(once).toEqual([
      { t: "count", k: 20, v: 1 },
      { t: "count", k: 35, v: 1 },
      { t: "entry", k: "u1", v: 35 },
      { t: "entry", k: "u2", v: 20 },
      { t: "participants", k: period, v: 2 },
    ]);
    await deliver(messages);
    await deliver([...messages].reverse());
    await deliver(messages.slice(0, 2));
    expect(await read()).toEqual(once);
  });
});

describe("deep standings", () => {
  /** A weekly board of `count` users straight into the standings: scores with ties of `tie` users each. */
  async function filledBoard(count: number, scoreOf: (i: number) => number) {
    const project = await boardProject();
    const period = periodAt(Date.now(), "week", "UTC");
    const rows: StandingRow[] = Array.from({ length: count }, (_, i) => ({
      projectKey: project.projectId,
      leaderboardId: "board",
      calendar: "week|UTC",
      period,
      userId: `user-${String(i).padStart(5, "0")}`,
      score: scoreOf(i),
      reachedAt: 1_000 + (i % 7),
      seq: 1,
    }));
    await env.DB.batch(recordStandings(env.DB, rows));
    return { ...project, period };
  }

  /** An answer that is an error envelope. */
  const refused = (auth: Credential, query: string) => api("GET", `/v1/leaderboards/board${query}`, { auth });
  const nextLink = (res: { headers: Headers }) => /^<([^>]+)>; rel="next"$/.exec(res.headers.get("link") ?? "")?.[1];

  it("walks every entry once by the cursor in Link: rel=next, with the ranks numbered pages give", async () => {
    const { admin } = await filledBoard(57, (i) => 100 - Math.floor(i / 6)); // ties of 6 straddle the pages
    const everything = await standings(admin, "?limit=100");
    expect(everything.json.entries).toHaveLength(57);
    expect(nextLink(everything)).toBeUndefined();
    for (const limit of [1, 4, 10]) {
      let res = await standings(admin, `?limit=${limit}`);
      const walked = [...res.json.entries];
      let link = nextLink(res);
      while (link !== undefined) {
        expect(link).toMatch(new RegExp(`^/v1/leaderboards/board\\?limit=${limit}&periodStart=\\d{4}-\\d\\d-\\d\\d&cursor=[\\w-]+$`));
        res = await api<StandingsBody>("GET", link, { auth: admin });
        expect(res.status, res.text).toBe(200);
        walked.push(...res.json.entries);
        link = nextLink(res);
      }
      expect(walked, `limit ${limit}`).toEqual(everything.json.entries);
    }
  });

  it("reads as many rows for a page 2,500 entries deep by cursor as for the first page", async () => {
    const { projectId, admin } = await filledBoard(3_000, (i) => (i < 1_200 ? 5_000 - i : 10)); // 1,800 users tied at 10
    const meter = rowsReadD1(env.DB);
    const page = async (query: { offset?: number; cursor?: string }) => {
      meter.reset();
      const result = await leaderboardPage(getDb(meter.db), projectId, "board", { limit: 20, offset: 0, ...query });
      return { result, rows: meter.rowsRead() };
    };
    await page({}); // the definitions, cached from here on
    const near = await page({});
    const byOffset = await page({ offset: 2_480 });
    const deep = await page({ cursor: byOffset.result.nextCursor! });
    expect(deep.result.standings.entries).toHaveLength(20);
    expect(deep.result.standings.entries).toEqual((await page({ offset: 2_500 })).result.standings.entries);
    expect(deep.result.standings.entries.every((e) => e.rank === 1_201 && e.score === 10)).toBe(true);
    expect(byOffset.rows).toBeGreaterThan(near.rows + 2_000); // the meter sees an offset's walk...
    expect(deep.rows).toBeLessThanOrEqual(near.rows + 2); // ...and a cursor page costs what the first page costs
    // The same through the route: a deep offset is refused, the cursor is not.
    expect((await refused(admin, "?offset=10001")).json.errors?.[0]?.path).toBe("offset");
    expect((await standings(admin, `?limit=20&cursor=${byOffset.result.nextCursor}`)).json.entries).toEqual(deep.result.standings.entries);
  });

  it("400s a cursor with an offset, a cursor it did not issue, and one of another period", async () => {
    const { admin } = await filledBoard(30, (i) => 100 - i);
    const cursor = nextLink(await standings(admin, "?limit=5"))!.split("cursor=")[1]!;
    expect((await refused(admin, `?offset=5&cursor=${cursor}`)).json.errors?.[0]?.path).toBe("offset");
    expect((await refused(admin, "?cursor=bm90LWEtY3Vyc29y")).json.errors?.[0]?.path).toBe("cursor");
    const lastWeek = new Date(Date.now() - 7 * 86_400_000);
    lastWeek.setUTCDate(lastWeek.getUTCDate() - ((lastWeek.getUTCDay() + 6) % 7));
    const other = await refused(admin, `?periodStart=${lastWeek.toISOString().slice(0, 10)}&cursor=${cursor}`);
    expect([other.status, other.json.errors?.[0]?.path]).toEqual([400, "cursor"]);
  });
});

describe("closed periods", () => {
  const DAY = 86_400_000;
  /** The weekly period that was current `weeksAgo` weeks ago (UTC), and its first day. */
  const weekAgo = (weeksAgo: number) => {
    const period = periodAt(Date.now() - weeksAgo * 7 * DAY, "week", "UTC");
    return { period, periodStart: dayToDate(firstDayOfPeriod(period, "week")) };
  };
  const nextLink = (res: { headers: Headers }) => /^<([^>]+)>; rel="next"$/.exec(res.headers.get("link") ?? "")?.[1];
  /** One board period's rows: its entries, its score histogram and its period row. */
  async function boardRows(board: BoardPeriod) {
    const bind = (sql: string) => env.DB.prepare(sql).bind(board.projectKey, board.leaderboardId, board.calendar, board.period);
    const where = "project_key = ?1 AND leaderboard_id = ?2 AND calendar = ?3 AND period = ?4";
    const [entries, counts, period] = await env.DB.batch([
      bind(`SELECT user_id AS userId, score FROM leaderboard_entries WHERE ${where} ORDER BY score DESC, reached_at, user_id`),
      bind(`SELECT score, users FROM leaderboard_score_counts WHERE ${where} ORDER BY score`),
      bind(
        `SELECT participants, ends_at AS endsAt, closed_at AS closedAt, kept_entries AS keptEntries, trimmed_at AS trimmedAt FROM leaderboard_periods WHERE ${where}`,
      ),
    ]);
    type Period = { participants: number; endsAt: number | null; closedAt: number | null; keptEntries: number | null; trimmedAt: number | null };
    return {
      entries: entries!.results as Array<{ userId: string; score: number }>,
      counts: counts!.results as Array<{ score: number; users: number }>,
      period: period!.results[0] as Period | undefined,
    };
  }
  /** Runs the closing job until `board` is trimmed, checking each run's bound; returns how many runs it took. */
  async function closeUntilTrimmed(board: BoardPeriod, options: { keepEntries?: number; chunk: number; maxDeleted: number }) {
    for (let run = 1; run <= 50; run++) {
      const entriesBefore = (await boardRows(board)).entries.length;
      const result = await closeLeaderboardPeriods(env.DB, Date.now(), options);
      expect(result.deleted).toBeLessThanOrEqual(options.maxDeleted);
      const rows = await boardRows(board);
      expect(entriesBefore - rows.entries.length).toBeLessThanOrEqual(options.maxDeleted);
      if (rows.period?.trimmedAt != null) return run;
    }
    throw new Error("the period was never trimmed");
  }

  it("keeps a closed period's top entries and histogram, pages within them, and ranks the others from the histogram", async () => {
    const users = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`u${i + 1}`, []]));
    const { admin, projectId } = await setupProject({
      definitions: { purchase_completed: { ...purchaseDefinition, limit: 1000, maximumReward: 100_000 } },
      users,
    });
    expect((await api("PUT", "/v1/admin/leaderboards/board", { auth: admin, body: weeklyPoints })).status).toBe(201);
    const past = weekAgo(3);
    const at = `${past.periodStart}T12:00:00Z`;
    // u3 and u4 tie at 60 (u3 first); the current week has 5 participants, more than the 3 a closed period keeps.
    const scores = [80, 70, 60, 60, 50, 40, 30, 20];
    for (const [i, amount] of scores.entries()) expect((await buy(admin, `u${i + 1}`, amount, at)).status).toBe(200);
    for (let i = 1; i <= 5; i++) expect((await buy(admin, `u${i}`, i)).status).toBe(200);
    const pastQuery = `?periodStart=${past.periodStart}`;
    await expect.poll(async () => (await standings(admin, `${pastQuery}&limit=100`)).json.entries.length, POLL).toBe(8);
    await expect.poll(async () => (await standings(admin, "?limit=100")).json.entries.length, POLL).toBe(5);

    const board: BoardPeriod = { projectKey: projectId, leaderboardId: "board", calendar: "week|UTC", period: past.period };
    const current: BoardPeriod = { ...board, period: weekAgo(0).period };
    const before = await boardRows(board);
    const currentBefore = await boardRows(current);
    expect(before.period).toMatchObject({ participants: 8, endsAt: periodEndsAt("week|UTC", past.period), closedAt: null });
    const entryOf = async (userId: string) => (await api<UserEntryBody>("GET", `/v1/leaderboards/board/users/${userId}${pastQuery}`, { auth: admin })).json;
    const ranksBefore = new Map<string, UserEntryBody>();
    for (const userId of Object.keys(users)) ranksBefore.set(userId, await entryOf(userId));
    expect(ranksBefore.get("u4")).toMatchObject({ closed: false, keptEntries: null, entry: { rank: 3, userId: "u4", score: 60, listed: true } });

    // A run that may delete 2 entries: the period closes, its pages stop at the kept 3 at once.
    const first = await closeLeaderboardPeriods(env.DB, Date.now(), { keepEntries: 3, chunk: 2, maxDeleted: 2 });
    expect(first.closed).toBeGreaterThanOrEqual(1);
    expect(first.deleted).toBeLessThanOrEqual(2);
    const midway = await boardRows(board);
    expect(midway.period).toMatchObject({ keptEntries: 3, trimmedAt: null });
    expect(midway.entries.length).toBeGreaterThan(3);
    const page = await standings(admin, `${pastQuery}&limit=100`);
    expect(page.json).toMatchObject({ closed: true, keptEntries: 3, totalParticipants: 8 });
    expect(page.json.entries.map((e) => e.userId)).toEqual(["u1", "u2", "u3"]);
    expect(nextLink(page)).toBeUndefined();
    // An entry still in D1 below the kept ones answers like a deleted one.
    expect((await entryOf(midway.entries.at(-1)!.userId)).entry).toMatchObject({ listed: false });

    await closeUntilTrimmed(board, { keepEntries: 3, chunk: 2, maxDeleted: 2 });
    const after = await boardRows(board);
    expect(after.entries).toEqual(before.entries.slice(0, 3));
    expect(after.counts).toEqual(before.counts);
    expect(after.period).toMatchObject({ participants: 8, keptEntries: 3 });
    expect(after.period!.closedAt).not.toBeNull();
    // The current period is never closed nor trimmed.
    expect(await boardRows(current)).toEqual(currentBefore);
    expect((await standings(admin, "?limit=100")).json).toMatchObject({ closed: false, keptEntries: null, totalParticipants: 5 });

    // Every user's rank is what it was: the kept ones from their entries, the others from the histogram.
    for (const [userId, was] of ranksBefore) {
      const now = await entryOf(userId);
      const listed = ["u1", "u2", "u3"].includes(userId);
      expect(now, userId).toEqual({ ...was, closed: true, keptEntries: 3, entry: { ...was.entry!, listed } });
    }
    expect((await entryOf("u4")).entry).toEqual({ rank: 3, userId: "u4", score: 60, listed: false });
    expect((await entryOf("nobody")).entry).toBeNull();
    // A user token reads its own rank below the kept entries too.
    const own = { bearer: await userToken(projectId, "u7") };
    expect((await api<UserEntryBody>("GET", `/v1/leaderboards/board/users/u7${pastQuery}`, { auth: own })).json.entry).toEqual({
      rank: 7,
      userId: "u7",
      score: 30,
      listed: false,
    });

    // Pages: by cursor through the kept entries, then nothing; an offset past them is an empty page.
    const firstPage = await standings(admin, `${pastQuery}&limit=2`);
    expect(firstPage.json.entries.map((e) => `${e.rank}:${e.userId}`)).toEqual(["1:u1", "2:u2"]);
    const second = await api<StandingsBody>("GET", nextLink(firstPage)!, { auth: admin });
    expect(second.json.entries).toEqual([{ rank: 3, userId: "u3", score: 60 }]);
    expect(nextLink(second)).toBeUndefined();
    expect((await standings(admin, `${pastQuery}&offset=3`)).json).toMatchObject({ totalParticipants: 8, closed: true, entries: [] });
    expect((await standings(admin, `${pastQuery}&offset=2&limit=5`)).json.entries).toEqual([{ rank: 3, userId: "u3", score: 60 }]);

    // A late log in the closed week (with one this week, in the same queue message) leaves the closed board as it was.
    const late = await api<{ results: Array<{ statusCode: number }> }>("POST", "/v1/events/batch", {
      auth: admin,
      body: {
        events: [
          { eventId: "purchase_completed", userId: "u8", metadata: { amount: 100 }, timestamp: at },
          { eventId: "purchase_completed", userId: "u8", metadata: { amount: 9 } },
        ],
      },
    });
    expect(late.json.results.map((r) => r.statusCode)).toEqual([200, 200]);
    await expect.poll(async () => (await standings(admin, "?limit=100")).json.totalParticipants, POLL).toBe(6);
    expect(await boardRows(board)).toEqual(after);
    // The user's object moved its score (120); it is ranked against the closed board's histogram.
    expect((await entryOf("u8")).entry).toEqual({ rank: 1, userId: "u8", score: 120, listed: false });
  });

  it("trims a period of more than 1,000 entries to its top 1,000 once the grace period is over, in bounded runs", async () => {
    const { projectId, admin } = await boardProject();
    const past = weekAgo(2);
    const board: BoardPeriod = { projectKey: projectId, leaderboardId: "board", calendar: "week|UTC", period: past.period };
    const current: BoardPeriod = { ...board, period: weekAgo(0).period };
    const fill = (target: BoardPeriod, count: number) =>
      env.DB.batch(
        recordStandings(
          env.DB,
          Array.from({ length: count }, (_, i) => ({
            ...target,
            userId: `user-${String(i).padStart(5, "0")}`,
            score: 5_000 - i,
            reachedAt: 1_000 + i,
            seq: 1,
          })),
        ),
      );
    await fill(board, 1_250);
    await fill(current, 1_010);
    const before = await boardRows(board);
    const currentBefore = await boardRows(current);
    const deepUsers = ["user-01000", "user-01100", "user-01249"];
    const deepBefore = await Promise.all(deepUsers.map((userId) => readStanding(env.DB, board, userId)));
    expect(deepBefore.map((r) => r.standing?.rank)).toEqual([1_001, 1_101, 1_250]);

    // Not before the grace period is over.
    const endsAt = periodEndsAt("week|UTC", past.period)!;
    expect(before.period?.endsAt).toBe(endsAt);
    await closeLeaderboardPeriods(env.DB, endsAt + CLOSED_PERIOD_GRACE_MS - 1, { chunk: 100, maxDeleted: 100 });
    expect(await boardRows(board)).toEqual(before);

    // Bounded runs: at most 100 entries each, carrying on until 1,000 are left (with the production kept count).
    const runs = await closeUntilTrimmed(board, { chunk: 40, maxDeleted: 100 });
    expect(runs).toBeGreaterThanOrEqual(3);
    const after = await boardRows(board);
    expect(after.entries).toHaveLength(1_000);
    expect(after.entries).toEqual(before.entries.slice(0, 1_000));
    expect(after.counts).toEqual(before.counts);
    expect(after.period).toMatchObject({ participants: 1_250, keptEntries: 1_000 });
    expect(await boardRows(current)).toEqual(currentBefore);
    // A trimmed user's rank from the histogram is the rank it had.
    for (const [i, userId] of deepUsers.entries()) {
      expect((await readStanding(env.DB, board, userId)).standing).toBeNull();
      expect(await rankOfScore(env.DB, board, deepBefore[i]!.standing!.score)).toBe(deepBefore[i]!.standing!.rank);
    }
    const res = await standings(admin, `?periodStart=${past.periodStart}&offset=990&limit=20`);
    expect(res.json).toMatchObject({ totalParticipants: 1_250, closed: true, keptEntries: 1_000 });
    expect(res.json.entries.map((e) => e.rank)).toEqual(Array.from({ length: 10 }, (_, i) => 991 + i));
    expect(nextLink(res)).toBeUndefined();
    // Nothing left to do: a further run deletes nothing of this board.
    await closeLeaderboardPeriods(env.DB, Date.now());
    expect(await boardRows(board)).toEqual(after);
  });

  it("is closed by the cron's scheduled work, and a period with no more than the kept entries is done at once", async () => {
    const { projectId } = await boardProject();
    const board: BoardPeriod = { projectKey: projectId, leaderboardId: "board", calendar: "week|UTC", period: weekAgo(2).period };
    const open: BoardPeriod = { ...board, period: weekAgo(0).period };
    const rows = (target: BoardPeriod) => ["a", "b"].map((userId, i) => ({ ...target, userId, score: 10 - i, reachedAt: 1, seq: 1 }));
    await env.DB.batch(recordStandings(env.DB, [...rows(board), ...rows(open)]));
    await runScheduledWork(env);
    const closed = await boardRows(board);
    expect(closed.period).toMatchObject({ participants: 2, keptEntries: 1_000 });
    expect(closed.period!.closedAt).not.toBeNull();
    expect(closed.period!.trimmedAt).toBe(closed.period!.closedAt);
    expect(closed.entries).toHaveLength(2);
    expect((await boardRows(open)).period).toMatchObject({ closedAt: null, keptEntries: null, trimmedAt: null });
  });

  it("migration 0011 gives the periods already stored their end, never early", async () => {
    const migration = env.TEST_MIGRATIONS.find((m) => m.name.startsWith("0011"))!;
    const update = migration.queries.find((q) => q.includes("UPDATE `leaderboard_periods`"))!;
    expect(update).toBeDefined();
    const projectKey = newProject();
    const periods: Array<[string, number]> = [
      ["day|UTC", 20_000],
      ["week|UTC", 2_900],
      ["month|UTC", 683],
      ["week|Europe/Berlin", 2_900],
      ["month|America/New_York", 671],
      ["all|UTC", 0],
    ];
    // Rows as the schema before 0011 wrote them: no end.
    await env.DB.batch(
      periods.map(([calendar, period]) =>
        env.DB.prepare("INSERT INTO leaderboard_periods (project_key, leaderboard_id, calendar, period, participants) VALUES (?, 'b', ?, ?, 1)").bind(
          projectKey,
          calendar,
          period,
        ),
      ),
    );
    await env.DB.prepare(update).run();
    const rows = await env.DB.prepare("SELECT calendar, period, ends_at AS endsAt FROM leaderboard_periods WHERE project_key = ?")
      .bind(projectKey)
      .all<{ calendar: string; period: number; endsAt: number | null }>();
    const endOf = Object.fromEntries(rows.results.map((r) => [r.calendar, r.endsAt]));
    for (const [calendar, period] of periods) {
      const exact = periodEndsAt(calendar, period);
      if (exact === null) expect(endOf[calendar], calendar).toBeNull();
      else if (calendar.endsWith("|UTC")) expect(endOf[calendar], calendar).toBe(exact);
      else {
        expect(endOf[calendar]!, calendar).toBeGreaterThanOrEqual(exact);
        expect(endOf[calendar]!, calendar).toBeLessThanOrEqual(exact + 26 * 3_600_000);
      }
    }
    expect(endOf["month|UTC"]).toBe(Date.UTC(2027, 0, 1));
    expect(endOf["week|UTC"]).toBe(Date.UTC(1970, 0, 1) + (2_901 * 7 - 3) * DAY);
  });
});
