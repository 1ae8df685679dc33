import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { dayNumber } from "../../src/domain/active-days";
import type { Activity, LoggedEventMessage } from "../../src/domain/logged-event";
import type { StreakAnalytics } from "../../src/domain/streak-analytics";
import type { BatchResponseBody } from "../../src/routes/event-log";
import type { EventStatsBody, GlobalStatsBody } from "../../src/routes/stats";
import { deliver, loggedEvent } from "../fixtures";
import { api, loginDefinition, POLL, purchaseDefinition, replaceObjectQueue, setupProject, userObject, type Credential, type QueueStandIn } from "../helpers";
import { outageD1 } from "./outage";
import { LOGGED, OF_PROJECT } from "../log-rows";

const DAY_MS = 86_400_000;
/** The UTC day `daysAgo` days before today. */
const day = (daysAgo: number) => new Date(Date.now() - daysAgo * DAY_MS).toISOString().slice(0, 10);
/** A time on that day: noon for past days; for today 00:xx, which has always passed. */
const at = (daysAgo: number, minute = 0) => `${day(daysAgo)}T${daysAgo === 0 ? "00" : "12"}:${String(minute).padStart(2, "0")}:00Z`;

type Log = { eventId: string; userId: string; timestamp: string; metadata?: Record<string, unknown> };
const login = (userId: string, daysAgo: number, minute = 0): Log => ({ eventId: "login", userId, timestamp: at(daysAgo, minute) });
const purchase = (userId: string, daysAgo: number, minute = 0): Log => ({
  eventId: "purchase_completed",
  userId,
  timestamp: at(daysAgo, minute),
  metadata: { amount: 10 },
});

async function project(users: string[]) {
  const setup = await setupProject({
    definitions: { login: loginDefinition, purchase_completed: purchaseDefinition },
    users: Object.fromEntries(users.map((u) => [u, []])),
  });
  const streak = await api("PUT", "/v1/admin/streaks/login_streak", {
    auth: setup.admin,
    body: { title: "Logins", eventIds: ["login"], period: "day", goal: 2 },
  });
  expect(streak.status).toBe(201);
  return setup;
}

async function logAll(admin: Credential, events: Log[]) {
  const res = await api<BatchResponseBody>("POST", "/v1/events/batch", { auth: admin, body: { events } });
  expect(res.status).toBe(200);
  for (const result of res.json.results) expect(result.statusCode, JSON.stringify(result)).toBe(200);
}

const logCount = async (projectId: string) =>
  (await env.DB.prepare(`SELECT COUNT(*) AS n FROM event_log WHERE ${OF_PROJECT}`).bind(projectId).first<{ n: number }>())!.n;

/** Makes these users' objects hand their queue messages to the test instead of the queue: the test delivers them. */
async function captureSends(projectId: string, users: string[]): Promise<unknown[]> {
  const sent: unknown[] = [];
  const queue: QueueStandIn = {
    send: async (body) => void sent.push(body),
    sendBatch: async (messages) => {
      for (const message of messages) sent.push(message.body);
    },
  };
  for (const userId of users) await replaceObjectQueue(userObject(projectId, userId), queue);
  return sent;
}

/** The single messages in what was sent (bundles opened). */
const itemsOf = (sent: unknown[]): LoggedEventMessage[] =>
  sent.flatMap((body) => {
    const value = JSON.parse(body as string) as LoggedEventMessage | { kind: "bundle"; items: LoggedEventMessage[] };
    return "kind" in value && value.kind === "bundle" ? value.items : [value as LoggedEventMessage];
  });

const stats = <T>(admin: Credential, query: string) => api<T>("GET", `/v1/stats/event?${query}`, { auth: admin });

/** Every aggregate row the unique-user and streak counts keep for a project (zeros left out). */
async function countRows(projectId: string) {
  const { results } = await env.DB.prepare(
    `SELECT 'daily' AS t, event_id AS k, bucket AS g, users AS n FROM stats_daily WHERE project_key = ?1 AND users != 0
     UNION ALL SELECT 'monthly', event_id, bucket, users FROM stats_monthly WHERE project_key = ?1 AND users != 0
     UNION ALL SELECT 'last', event_id, day, users FROM stats_users_by_last_day WHERE project_key = ?1 AND users != 0
     UNION ALL SELECT 'alive', streak_id, alive_until, participants || '/' || current_sum FROM streak_alive_buckets WHERE project_key = ?1 AND participants != 0
     UNION ALL SELECT 'longest', streak_id, longest, participants FROM streak_longest_counts WHERE project_key = ?1 AND participants != 0
     ORDER BY 1, 2, 3 DESC`,
  )
    .bind(projectId)
    .all();
  return results;
}

/**
 * The stats endpoint against a recount from the raw log: unique users of every window ending today (global and
 * per event), per day, and per month.
 */
async function expectExactUniqueUsers(admin: Credential, projectId: string) {
  const recount = async (sql: string, ...args: unknown[]) =>
    (await env.DB.prepare(sql)
      .bind(projectId, ...args)
      .first<{ n: number }>())!.n;
  for (const [period, days] of [
    ["1d", 1],
    ["7d", 7],
    ["30d", 30],
  ] as const) {
    const start = day(days - 1);
    const global = (await stats<GlobalStatsBody>(admin, `period=${period}`)).json.data;
    expect(global.uniqueUsers, period).toBe(
      await recount(`SELECT COUNT(DISTINCT user_id) AS n FROM ${LOGGED} WHERE project_key = ? AND substr(occurred_at, 1, 10) >= ?`, start),
    );
    for (const eventId of ["login", "purchase_completed"]) {
      const users = await recount(
        `SELECT COUNT(DISTINCT user_id) AS n FROM ${LOGGED} WHERE project_key = ? AND event_id = ? AND substr(occurred_at, 1, 10) >= ?`,
        eventId,
        start,
      );
      expect((await stats<EventStatsBody>(admin, `period=${period}&eventId=${eventId}`)).json.data.uniqueUsers, `${period} ${eventId}`).toBe(users);
      expect(global.eventBreakdown[eventId]?.users ?? 0, `${period} ${eventId} breakdown`).toBe(users);
    }
    for (const [dayKey, entry] of Object.entries(global.dailyData)) {
      const users = await recount(`SELECT COUNT(DISTINCT user_id) AS n FROM ${LOGGED} WHERE project_key = ? AND substr(occurred_at, 1, 10) = ?`, dayKey);
      expect(entry.users, dayKey).toBe(users);
    }
  }
  const months = await env.DB.prepare(
    `SELECT m.event_id AS eventId, m.bucket AS month, m.users AS users,
            (SELECT COUNT(DISTINCT user_id) FROM ${LOGGED} l WHERE l.project_key = m.project_key AND substr(l.occurred_at, 1, 7) = m.bucket
               AND (m.event_id = '*' OR l.event_id = m.event_id)) AS recount
     FROM stats_monthly m WHERE m.project_key = ?`,
  )
    .bind(projectId)
    .all<{ eventId: string; month: string; users: number; recount: number }>();
  expect(months.results.length).toBeGreaterThan(0);
  for (const row of months.results) expect(row.users, `${row.eventId} ${row.month}`).toBe(row.recount);
}

/**
 * The activity each log should carry, decided per user in request order: whether its UTC day (and month) is new
 * for the user, and for the event, and the latest day each had before. Keyed by user, event and time.
 */
function expectedActivity(logs: Log[]): Map<string, Activity> {
  const days = new Map<string, string[]>();
  const decide = (key: string, day: string) => {
    const before = days.get(key) ?? [];
    days.set(key, [...before, day]);
    const firstOfDay = !before.includes(day);
    return {
      firstOfDay,
      firstOfMonth: firstOfDay && !before.some((d) => d.slice(0, 7) === day.slice(0, 7)),
      // biome-ignore lint/complexity/useMathMinMax: ISO day strings, not numbers
      previousLast: before.length === 0 ? null : before.reduce((a, b) => (a > b ? a : b)),
    };
  };
  return new Map(
    logs.map((log) => {
      const day = log.timestamp.slice(0, 10);
      const any = decide(`${log.userId} *`, day);
      const own = decide(`${log.userId} ${log.eventId}`, day);
      const activity: Activity = {
        firstOfDay: any.firstOfDay,
        firstOfMonth: any.firstOfMonth,
        firstOfEventDay: own.firstOfDay,
        firstOfEventMonth: own.firstOfMonth,
        previousLastDay: any.previousLast,
        previousEventLastDay: own.previousLast,
      };
      return [`${log.userId} ${log.eventId} ${new Date(log.timestamp).toISOString()}`, activity];
    }),
  );
}

describe("distinct users decided by the user's object", () => {
  it("counts each user once whatever the order, redelivery or batching of the messages", async () => {
    const users = ["alice", "bob"];
    const { admin, projectId } = await project(users);
    const sent = await captureSends(projectId, users);
    const logs = [
      login("alice", 3),
      login("alice", 1),
      login("alice", 0),
      purchase("alice", 0, 1),
      login("alice", 5), // a backfill
      login("alice", 1, 30), // a second event on a day
      login("bob", 1),
      purchase("bob", 10),
    ];
    await logAll(admin, logs);
    const items = itemsOf(sent);
    expect(items).toHaveLength(8);
    // Every message carries what its log changed, as each user's object decided it in request order.
    expect(new Map(items.map((item) => [`${item.userId} ${item.eventId} ${item.occurredAt}`, item.activity]))).toEqual(expectedActivity(logs));

    // First delivery newest first, one message per batch (each twice in it): every user's changes arrive backwards.
    for (const item of [...items].reverse()) expect((await deliver([item, item])).retryMessages).toEqual([]);
    expect(await logCount(projectId)).toBe(8);
    const once = await countRows(projectId);
    // Users per last active day: alice on today, bob on yesterday; no user anywhere else.
    expect(once.filter((row) => row.t === "last")).toEqual([
      { t: "last", k: "*", g: day(0), n: 1 },
      { t: "last", k: "*", g: day(1), n: 1 },
      { t: "last", k: "login", g: day(0), n: 1 },
      { t: "last", k: "login", g: day(1), n: 1 },
      { t: "last", k: "purchase_completed", g: day(0), n: 1 },
      { t: "last", k: "purchase_completed", g: day(10), n: 1 },
    ]);
    await expectExactUniqueUsers(admin, projectId);
    // Streaks: alice has logins on days 5, 3, 1 and 0 ago (current 2, longest 2), bob yesterday (current 1); both alive.
    const analytics = (await api<StreakAnalytics>("GET", "/v1/analytics/streak?streakId=login_streak", { auth: admin })).json;
    expect(analytics).toEqual({
      streakId: "login_streak",
      totalParticipants: 2,
      activeParticipants: 2,
      averageStreakLength: 1.5,
      longestUserStreak: 2,
      completionRate: 0.5,
    });

    // Redelivered: all at once, in order, shuffled, and a few again; nothing moves.
    await deliver(items);
    await deliver([items[3]!, items[0]!, items[6]!, items[1]!]);
    for (const item of items) await deliver([item, item]);
    expect(await countRows(projectId)).toEqual(once);
  });

  it("counts a backfill for an earlier day in that day and month, without moving the last active day back", async () => {
    const { admin, projectId } = await project(["alice"]);
    await logAll(admin, [login("alice", 0)]);
    await expect.poll(() => logCount(projectId), POLL).toBe(1);
    await logAll(admin, [login("alice", 5), login("alice", 40)]);
    await expect.poll(() => logCount(projectId), POLL).toBe(3);
    const week = (await stats<GlobalStatsBody>(admin, "period=7d")).json.data;
    expect(week.uniqueUsers).toBe(1);
    expect(week.dailyData[day(5)]?.users).toBe(1);
    expect(week.dailyData[day(0)]?.users).toBe(1);
    expect((await stats<GlobalStatsBody>(admin, "period=1d")).json.data.uniqueUsers).toBe(1);
    expect((await stats<GlobalStatsBody>(admin, "period=90d")).json.data.uniqueUsers).toBe(1);
    expect((await countRows(projectId)).filter((row) => row.t === "last")).toEqual([
      { t: "last", k: "*", g: day(0), n: 1 },
      { t: "last", k: "login", g: day(0), n: 1 },
    ]);
    await expectExactUniqueUsers(admin, projectId);
  });

  it("counts two events of one user on one day (and in one month) as one user", async () => {
    const { admin, projectId } = await project(["alice"]);
    await logAll(admin, [login("alice", 0), login("alice", 0, 1), purchase("alice", 0, 2)]);
    await expect.poll(() => logCount(projectId), POLL).toBe(3);
    const today = (await stats<GlobalStatsBody>(admin, "period=1d")).json.data;
    expect(today.uniqueUsers).toBe(1);
    expect(today.totalEvents).toBe(3);
    expect(today.dailyData[day(0)]?.users).toBe(1);
    expect(today.eventBreakdown).toMatchObject({ login: { count: 2, users: 1 }, purchase_completed: { count: 1, users: 1 } });
    const monthly = await env.DB.prepare("SELECT event_id, users FROM stats_monthly WHERE project_key = ? ORDER BY event_id").bind(projectId).all();
    expect(monthly.results).toEqual([
      { event_id: "*", users: 1 },
      { event_id: "login", users: 1 },
      { event_id: "purchase_completed", users: 1 },
    ]);
  });

  it("counts unique users per event in every window", async () => {
    const { admin, projectId } = await project(["alice", "bob", "carol"]);
    await logAll(admin, [purchase("alice", 10), login("alice", 0), purchase("bob", 2), login("carol", 20), purchase("carol", 6)]);
    await expect.poll(() => logCount(projectId), POLL).toBe(5);
    const purchases = async (period: string) => (await stats<EventStatsBody>(admin, `period=${period}&eventId=purchase_completed`)).json.data.uniqueUsers;
    const logins = async (period: string) => (await stats<EventStatsBody>(admin, `period=${period}&eventId=login`)).json.data.uniqueUsers;
    expect([await purchases("1d"), await purchases("7d"), await purchases("30d")]).toEqual([0, 2, 3]);
    expect([await logins("1d"), await logins("7d"), await logins("30d")]).toEqual([1, 1, 2]);
    const week = (await stats<GlobalStatsBody>(admin, "period=7d")).json.data;
    expect(week.uniqueUsers).toBe(3);
    expect(week.eventBreakdown).toMatchObject({ purchase_completed: { users: 2 }, login: { users: 1 } });
    await expectExactUniqueUsers(admin, projectId);
  });

  it("asks the user's object for messages queued without flags, and counts them once beside the object's own", async () => {
    const { admin, projectId } = await project(["alice", "bob"]);
    const accountOf = async (userId: string) =>
      (await env.DB.prepare("SELECT account_id AS id FROM users WHERE project_key = ? AND user_id = ?").bind(projectId, userId).first<{ id: number }>())!.id;
    const [alice, bob] = [await accountOf("alice"), await accountOf("bob")];
    // A message from before the flags for alice today, then her own log today: one user.
    const legacy = loggedEvent(projectId, { userId: "alice", accountId: alice, eventId: "login", occurredAt: at(0) });
    await deliver([legacy]);
    await logAll(admin, [login("alice", 0, 5)]);
    // bob the other way round: his log first, then a message from before the flags on the same day, and a
    // day earlier with a streak state (seq 0: older than anything the object reported).
    await logAll(admin, [login("bob", 1)]);
    await expect.poll(() => logCount(projectId), POLL).toBe(3);
    const late = [
      loggedEvent(projectId, { userId: "bob", accountId: bob, eventId: "login", occurredAt: at(1, 10) }),
      loggedEvent(projectId, {
        userId: "bob",
        accountId: bob,
        eventId: "login",
        occurredAt: at(2),
        updates: { seq: 0, streaks: [{ streakId: "login_streak", current: 1, longest: 1, aliveUntil: 1 }], standings: [] },
      }),
    ];
    await deliver(late);
    await deliver([...late, legacy]); // redelivered: the objects answer the same, nothing is inserted
    expect(await logCount(projectId)).toBe(5);
    await expectExactUniqueUsers(admin, projectId);
    const rows = await countRows(projectId);
    expect(rows.filter((row) => row.t === "daily" && row.k === "*")).toEqual([
      { t: "daily", k: "*", g: day(0), n: 1 },
      { t: "daily", k: "*", g: day(1), n: 1 },
      { t: "daily", k: "*", g: day(2), n: 1 },
    ]);
    // The old streak state changed nothing: bob is in the analytics once, as his object last reported him.
    expect(rows.filter((row) => row.t === "longest")).toEqual([{ t: "longest", k: "login_streak", g: 1, n: 2 }]);
  });

  it("imports what D1 knew about a user from before the flags once, then counts that user exactly", async () => {
    const { admin, projectId } = await project(["alice"]);
    await logAll(admin, [login("alice", 2), login("alice", 0)]);
    await expect.poll(() => logCount(projectId), POLL).toBe(2);
    const stub = userObject(projectId, "alice");
    // Make the object one from before the flags: it forgets what it decided, and D1 holds it as a seed (the
    // shape migration 0009 writes; test/db/stats-migration.test.ts checks the migration itself).
    const seed = await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql;
      const active = sql.exec<{ event_id: string; first_day: number; last_day: number }>("SELECT event_id, first_day, last_day FROM active_days").toArray();
      const streaks = sql
        .exec<{ streak_id: string; seq: number; current: number; longest: number; alive_until: number }>("SELECT * FROM streak_reports")
        .toArray();
      sql.exec("DELETE FROM active_days");
      sql.exec("DELETE FROM streak_reports");
      sql.exec("UPDATE stats_seed SET pending = 1");
      return {
        active: active.map((r) => [r.event_id, r.first_day, r.last_day]),
        streaks: streaks.map((r) => [r.streak_id, r.seq, r.current, r.longest, r.alive_until]),
      };
    });
    expect(seed.active).toContainEqual(["*", dayNumber(day(0)), dayNumber(day(0))]);
    expect(seed.streaks).toHaveLength(1);
    await env.DB.prepare("INSERT INTO stats_user_seeds (project_key, user_id, active, streaks) VALUES (?, 'alice', ?, ?)")
      .bind(projectId, JSON.stringify(seed.active), JSON.stringify(seed.streaks))
      .run();
    await evictDurableObject(stub);

    // Today again, yesterday (joining the run to 3 days) and a purchase today.
    await logAll(admin, [login("alice", 0, 10), login("alice", 1), purchase("alice", 0, 20)]);
    await expect.poll(() => logCount(projectId), POLL).toBe(5);
    await expectExactUniqueUsers(admin, projectId);
    expect((await countRows(projectId)).filter((row) => row.t === "last" || row.t === "longest")).toEqual([
      { t: "last", k: "*", g: day(0), n: 1 },
      { t: "last", k: "login", g: day(0), n: 1 },
      { t: "last", k: "purchase_completed", g: day(0), n: 1 },
      { t: "longest", k: "login_streak", g: 3, n: 1 },
    ]);
    const analytics = (await api<StreakAnalytics>("GET", "/v1/analytics/streak?streakId=login_streak", { auth: admin })).json;
    expect(analytics).toMatchObject({ totalParticipants: 1, activeParticipants: 1, averageStreakLength: 3, longestUserStreak: 3 });
    // The seed was taken once and is gone from D1.
    await expect
      .poll(
        async () => (await env.DB.prepare("SELECT COUNT(*) AS n FROM stats_user_seeds WHERE project_key = ?").bind(projectId).first<{ n: number }>())!.n,
        POLL,
      )
      .toBe(0);
    expect(await runInDurableObject(stub, (_i, state) => state.storage.sql.exec<{ p: number }>("SELECT pending AS p FROM stats_seed").one().p)).toBe(0);
  });

  it("logs on without flags while an object from before them cannot read its seed, and the consumer gets them later", async () => {
    const { admin, projectId } = await project(["alice"]);
    await logAll(admin, [login("alice", 1)]);
    await expect.poll(() => logCount(projectId), POLL).toBe(1);
    const stub = userObject(projectId, "alice");
    await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql;
      const active = sql.exec<{ event_id: string; first_day: number; last_day: number }>("SELECT event_id, first_day, last_day FROM active_days").toArray();
      const streaks = sql
        .exec<{ streak_id: string; seq: number; current: number; longest: number; alive_until: number }>("SELECT * FROM streak_reports")
        .toArray();
      sql.exec("DELETE FROM active_days");
      sql.exec("DELETE FROM streak_reports");
      sql.exec("UPDATE stats_seed SET pending = 1");
      return env.DB.prepare("INSERT INTO stats_user_seeds (project_key, user_id, active, streaks) VALUES (?, 'alice', ?, ?)")
        .bind(
          projectId,
          JSON.stringify(active.map((r) => [r.event_id, r.first_day, r.last_day])),
          JSON.stringify(streaks.map((r) => [r.streak_id, r.seq, r.current, r.longest, r.alive_until])),
        )
        .run();
    });
    await evictDurableObject(stub);
    const sent = await captureSends(projectId, ["alice"]);
    // D1 is down for the object: its log still succeeds, without flags.
    const saved = await runInDurableObject(stub, (instance) => {
      const holder = instance as unknown as { env: Env };
      const original = holder.env;
      holder.env = { ...original, DB: outageD1().db };
      return original.DB;
    });
    await logAll(admin, [login("alice", 1, 30), login("alice", 0)]);
    const items = itemsOf(sent);
    expect(items).toHaveLength(2);
    for (const item of items) expect(item.activity).toBeUndefined();
    await runInDurableObject(stub, (instance) => {
      const holder = instance as unknown as { env: Env };
      holder.env = { ...holder.env, DB: saved };
    });
    // D1 is back: the consumer asks the object, which takes its seed first.
    await deliver([...items].reverse());
    expect(await logCount(projectId)).toBe(3);
    await expectExactUniqueUsers(admin, projectId);
    expect((await countRows(projectId)).filter((row) => row.t === "last" || row.t === "longest")).toEqual([
      { t: "last", k: "*", g: day(0), n: 1 },
      { t: "last", k: "login", g: day(0), n: 1 },
      { t: "longest", k: "login_streak", g: 2, n: 1 },
    ]);
  });

  it("drops active days no backfill can reach, keeping each event id's newest range", async () => {
    const { admin, projectId } = await project(["alice"]);
    const stub = userObject(projectId, "alice");
    const old = dayNumber(day(0)) - 3653 - 40;
    await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql;
      sql.exec("INSERT INTO active_days (event_id, first_day, last_day) VALUES ('*', ?1, ?1), ('*', ?2, ?2), ('login', ?1, ?1)", old - 10, old);
      // purchase_completed's only range is that old: it holds the user's last purchase day, and stays.
      sql.exec("INSERT INTO active_days (event_id, first_day, last_day) VALUES ('purchase_completed', ?1, ?1)", old);
      // Within reach of a backfill (10 years and a month): stays.
      sql.exec("INSERT INTO active_days (event_id, first_day, last_day) VALUES ('*', ?1, ?1)", dayNumber(day(0)) - 3653 - 20);
    });
    await evictDurableObject(stub);
    await logAll(admin, [login("alice", 0)]);
    // The first log after the start sent everything, so it swept and stood down the alarm it had armed.
    expect(await runDurableObjectAlarm(stub)).toBe(false);
    const left = await runInDurableObject(stub, (_instance, state) =>
      state.storage.sql.exec("SELECT event_id, first_day, last_day FROM active_days ORDER BY event_id, first_day").toArray(),
    );
    expect(left).toEqual([
      { event_id: "*", first_day: dayNumber(day(0)) - 3653 - 20, last_day: dayNumber(day(0)) - 3653 - 20 },
      { event_id: "*", first_day: dayNumber(day(0)), last_day: dayNumber(day(0)) },
      { event_id: "login", first_day: dayNumber(day(0)), last_day: dayNumber(day(0)) },
      { event_id: "purchase_completed", first_day: old, last_day: old },
    ]);
  });
});
