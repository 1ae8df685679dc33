import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ErrorEnvelope } from "../../src/http/errors";
import type { BatchResponseBody } from "../../src/routes/event-log";
import type { EventStatsBody, GlobalStatsBody } from "../../src/routes/stats";
import { api, loginDefinition, POLL, purchaseDefinition, setupProject, userToken, type Credential } from "../helpers";
import { LOGGED, OF_PROJECT } from "../log-rows";

const TODAY = "2025-08-07T15:00:00.000Z";

beforeEach(() => {
  // Only Date is faked: "today" is fixed, while timers and the queue keep real time.
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(new Date(TODAY));
});
afterEach(() => vi.useRealTimers());

async function logAll(admin: Credential, projectId: string, events: Array<Record<string, unknown>>) {
  const res = await api<BatchResponseBody>("POST", "/v1/events/batch", { auth: admin, body: { events } });
  expect(res.status).toBe(200);
  for (const result of res.json.results) expect(result.statusCode, JSON.stringify(result)).toBe(200);
  // The consumer writes the log and the aggregates in one transaction: once every row is in, stats are complete.
  const logged = async () => (await env.DB.prepare(`SELECT COUNT(*) AS n FROM event_log WHERE ${OF_PROJECT}`).bind(projectId).first<{ n: number }>())!.n;
  await expect.poll(logged, POLL).toBe(events.length);
}

const stats = <T = ErrorEnvelope>(admin: Credential, query: string) => api<T>("GET", `/v1/stats/event?${query}`, { auth: admin });

describe("GET /v1/stats/event", () => {
  async function seeded() {
    const project = await setupProject({
      definitions: { purchase_completed: purchaseDefinition, login: loginDefinition },
      users: { alice: [], bob: [], carol: [] },
    });
    const login = (userId: string, timestamp: string) => ({ eventId: "login", userId, timestamp });
    await logAll(project.admin, project.projectId, [
      login("alice", "2025-08-02T08:00:00Z"),
      login("alice", "2025-08-04T09:30:00Z"),
      login("alice", "2025-08-06T23:59:59Z"),
      login("bob", "2025-08-06T10:00:00Z"),
      { eventId: "purchase_completed", userId: "alice", metadata: { amount: 20 }, timestamp: "2025-08-06T10:20:00Z" },
      login("carol", "2025-07-31T12:00:00Z"),
    ]);
    return project;
  }

  it("answers the spec's global shape for 7d, counting a user active on 3 days once", async () => {
    const { admin } = await seeded();
    const res = await stats<GlobalStatsBody>(admin, "period=7d");
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ period: "7d", eventId: null, startDate: "2025-08-01", endDate: "2025-08-07" });
    const data = res.json.data;
    expect(data).toMatchObject({
      totalEvents: 5,
      uniqueUsers: 2,
      totalPoints: 40,
      eventBreakdown: { login: { count: 4, users: 2, points: 20 }, purchase_completed: { count: 1, users: 1, points: 20 } },
      topEvents: ["login", "purchase_completed"],
      _metadata: { uniqueUsersCalculationMethod: "daily_exact", uniqueUsersNote: null },
    });
    expect(Object.keys(data.dailyData)).toEqual(["2025-08-01", "2025-08-02", "2025-08-03", "2025-08-04", "2025-08-05", "2025-08-06", "2025-08-07"]);
    expect(data.dailyData["2025-08-01"]).toEqual({ events: 0, users: 0, points: 0, hourlyDistribution: new Array(24).fill(0) });
    const aug6 = data.dailyData["2025-08-06"];
    expect(aug6).toMatchObject({ events: 3, users: 2, points: 30 });
    expect(aug6!.hourlyDistribution[10]).toBe(2);
    expect(aug6!.hourlyDistribution[23]).toBe(1);
    expect(aug6!.hourlyDistribution.reduce((a, b) => a + b, 0)).toBe(3);
  });

  it("answers the spec's event shape", async () => {
    const { admin } = await seeded();
    const res = await stats<EventStatsBody>(admin, "eventId=login&period=30d");
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ period: "30d", eventId: "login", startDate: "2025-07-09", endDate: "2025-08-07" });
    expect(res.json.data).toMatchObject({
      totalCount: 5,
      uniqueUsers: 3,
      pointsAwarded: 25,
      conditionMet: 5,
      conditionFailed: 0,
      limitReached: 0,
    });
    expect(Object.keys(res.json.data.dailyData)).toHaveLength(30);
    expect(res.json.data.dailyData["2025-07-31"]).toMatchObject({ count: 1, users: 1, points: 5 });
    expect(res.json.data.dailyData["2025-07-31"]!.hourlyDistribution[12]).toBe(1);
  });

  it.each([
    ["period=1d", "2025-08-07", "2025-08-07", 0],
    ["period=current_month", "2025-08-01", "2025-08-07", 5],
    ["period=ytd", "2025-01-01", "2025-08-07", 6],
    ["period=all", "2025-07-31", "2025-08-07", 6],
    ["period=90d", "2025-05-10", "2025-08-07", 6],
    ["timeframe=month&month=2025-07", "2025-07-01", "2025-07-31", 1],
    ["timeframe=month&month=2025-08", "2025-08-01", "2025-08-31", 5],
  ])("%s covers %s to %s", async (query, start, end, total) => {
    const { admin } = await seeded();
    const res = await stats<GlobalStatsBody>(admin, query);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ startDate: start, endDate: end });
    expect(res.json.data.totalEvents).toBe(total);
    const days = (Date.parse(end) - Date.parse(start)) / 86_400_000 + 1;
    expect(Object.keys(res.json.data.dailyData)).toHaveLength(days);
  });

  it("defaults to 7d and ignores month without timeframe=month", async () => {
    const { admin } = await seeded();
    for (const query of ["", "month=2025-07"]) {
      const res = await stats<GlobalStatsBody>(admin, query);
      expect(res.json).toMatchObject({ period: "7d", startDate: "2025-08-01", endDate: "2025-08-07" });
      expect(res.json.data.totalEvents).toBe(5);
    }
  });

  it.each([
    ["period=2d", "period"],
    ["timeframe=month", "month"],
    ["timeframe=month&month=2025-13", "month"],
    ["timeframe=month&month=2025-8", "month"],
    ["timeframe=week&month=2025-08", "timeframe"],
  ])("400 for %s", async (query, path) => {
    const { admin } = await setupProject();
    const res = await stats(admin, query);
    expect(res.status).toBe(400);
    expect(res.json.errors?.[0]?.path).toBe(path);
  });

  it("404 for an unknown eventId, 403 for a user token", async () => {
    const { admin, projectId } = await setupProject();
    expect((await stats(admin, "eventId=nope")).status).toBe(404);
    expect((await stats({ bearer: await userToken(projectId, "alice") }, "period=7d")).status).toBe(403);
  });

  it("equals a recount from the raw event log for a randomized workload", async () => {
    vi.setSystemTime(new Date("2025-08-11T12:00:00Z"));
    const users = ["u0", "u1", "u2", "u3", "u4", "u5"];
    const { admin, projectId } = await setupProject({
      definitions: {
        purchase_completed: { ...purchaseDefinition, limit: 3, limitPeriod: "day" },
        login: { ...loginDefinition, limit: 1, limitPeriod: "day" },
        bonus: { title: "Bonus", reward: { default: 3, gold: 4 } },
      },
      users: Object.fromEntries(users.map((u, i) => [u, i % 2 ? ["gold"] : []])),
    });
    // Seeded PRNG (mulberry32): the workload is random but the same on every run.
    let seed = 0x5eed;
    const random = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const pick = <T>(items: T[]) => items[Math.floor(random() * items.length)]!;
    const events = Array.from({ length: 150 }, () => {
      const eventId = pick(["purchase_completed", "login", "bonus"]);
      const timestamp = new Date(Date.parse("2025-08-01T00:00:00Z") + Math.floor(random() * 10 * 86_400_000)).toISOString();
      const metadata = eventId === "purchase_completed" ? { amount: Math.round((random() * 120 - 20) * 100) / 100 } : {};
      return { eventId, userId: pick(users), metadata, timestamp };
    });
    await logAll(admin, projectId, events);

    const query = async <T>(sql: string) => (await env.DB.prepare(sql).bind(projectId).all<T>()).results;
    type Recount = { eventId: string; count: number; users: number; points: number; met: number; failed: number; limits: number };
    const perEvent = await query<Recount>(
      `SELECT event_id AS eventId, COUNT(*) AS count, COUNT(DISTINCT user_id) AS users, SUM(points) AS points,
              SUM(condition_reached) AS met, SUM(1 - condition_reached) AS failed, SUM(limit_reached) AS limits
       FROM ${LOGGED} WHERE project_key = ? GROUP BY event_id`,
    );
    const perDay = await query<{ day: string; events: number; users: number; points: number }>(
      `SELECT substr(occurred_at, 1, 10) AS day, COUNT(*) AS events, COUNT(DISTINCT user_id) AS users, SUM(points) AS points
       FROM ${LOGGED} WHERE project_key = ? GROUP BY day`,
    );
    const perHour = await query<{ day: string; hour: number; n: number }>(
      `SELECT substr(occurred_at, 1, 10) AS day, CAST(substr(occurred_at, 12, 2) AS INTEGER) AS hour, COUNT(*) AS n
       FROM ${LOGGED} WHERE project_key = ? GROUP BY day, hour`,
    );
    const [totals] = await query<{ count: number; users: number; points: number }>(
      `SELECT COUNT(*) AS count, COUNT(DISTINCT user_id) AS users, SUM(points) AS points FROM ${LOGGED} WHERE project_key = ?`,
    );
    expect(perEvent.some((e) => e.limits > 0)).toBe(true);
    expect(perEvent.some((e) => e.failed > 0)).toBe(true);

    const global = (await stats<GlobalStatsBody>(admin, "period=30d")).json.data;
    expect({ totalEvents: global.totalEvents, uniqueUsers: global.uniqueUsers, totalPoints: global.totalPoints }).toEqual({
      totalEvents: totals!.count,
      uniqueUsers: totals!.users,
      totalPoints: totals!.points,
    });
    expect(global.eventBreakdown).toEqual(Object.fromEntries(perEvent.map((e) => [e.eventId, { count: e.count, users: e.users, points: e.points }])));
    for (const day of perDay) expect(global.dailyData[day.day]).toMatchObject({ events: day.events, users: day.users, points: day.points });
    for (const { day, hour, n } of perHour) expect(global.dailyData[day]!.hourlyDistribution[hour]).toBe(n);

    for (const e of perEvent) {
      const data = (await stats<EventStatsBody>(admin, `period=30d&eventId=${e.eventId}`)).json.data;
      expect(data).toMatchObject({
        totalCount: e.count,
        uniqueUsers: e.users,
        pointsAwarded: e.points,
        conditionMet: e.met,
        conditionFailed: e.failed,
        limitReached: e.limits,
      });
    }
    const month = (await stats<GlobalStatsBody>(admin, "timeframe=month&month=2025-08")).json.data;
    expect({ total: month.totalEvents, points: month.totalPoints, users: month.uniqueUsers }).toEqual({
      total: totals!.count,
      points: totals!.points,
      users: totals!.users,
    });
  });
});
