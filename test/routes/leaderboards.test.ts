import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { getDb } from "../../src/db/client";
import { recordStandings, type StandingRow } from "../../src/db/leaderboards";
import { periodAt } from "../../src/domain/calendar";
import type { LeaderboardDefinition } from "../../src/domain/game-definitions";
import type { LoggedEventMessage } from "../../src/domain/logged-event";
import type { StandingsBody, UserEntryBody } from "../../src/routes/leaderboards";
import { leaderboardPage } from "../../src/services/leaderboards";
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
    expect((await api("PUT", "/v1/admin/leaderboards/b2", { auth: admin, body: { ...weeklyPoints, metric: "count" } })).json.errors?.[0]?.path).toBe("eventIds");
    expect((await api("PUT", "/v1/admin/leaderboards/b2", { auth: admin, body: { ...weeklyPoints, eventIds: ["x"] } })).json.errors?.[0]?.path).toBe("eventIds");
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
    await expect.poll(async () => (await standings(admin)).json.entries.map((e) => `${e.rank}:${e.userId}`), POLL).toEqual(["1:bob", "2:alice", "3:carol", "4:dave"]);
  });

  it("answers one user's rank, null without a score, and only its own to a user token", async () => {
    const { admin, projectId } = await boardProject();
    await buy(admin, "alice", 20);
    await buy(admin, "bob", 40);
    const own = { bearer: await userToken(projectId, "alice") };
    await expect.poll(async () => (await api<UserEntryBody>("GET", "/v1/leaderboards/board/users/alice", { auth: own })).json.entry, POLL).toEqual({ rank: 2, userId: "alice", score: 20 });
    const none = await api<UserEntryBody>("GET", "/v1/leaderboards/board/users/erin", { auth: admin });
    expect(none.json).toMatchObject({ leaderboardId: "board", period: "week", entry: null });
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
      .toMatchObject({ period: "all", periodStart: null, periodEnd: null, totalParticipants: 2, entries: [{ rank: 1, userId: "alice", score: 2 }, { rank: 2, userId: "bob", score: 1 }] });
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
      const result = await leaderboardPage(meter.db, getDb(meter.db), projectId, "board", { limit: 20, offset: 0, ...query });
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
