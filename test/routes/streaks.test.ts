import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { StreakDefinition } from "../../src/domain/game-definitions";
import type { EventLoggedEnvelope, LoggedEventMessage } from "../../src/domain/logged-event";
import type { StreakAnalytics } from "../../src/domain/streak-analytics";
import type { PointsProfileBody } from "../../src/routes/users";
import { deliver as deliverToConsumer, loggedEvent } from "../fixtures";
import { api, loginDefinition, newProject, POLL, purchaseDefinition, setupProject, userToken, type Credential } from "../helpers";

const streakBody = { title: "Daily login", eventIds: ["daily_login"], period: "day", goal: 3 };
const DAY_MS = 86_400_000;
/** Noon UTC `daysAgo` days before today: a time every time zone in these tests agrees on the day of. */
const noonDaysAgo = (daysAgo: number) => `${new Date(Date.now() - daysAgo * DAY_MS).toISOString().slice(0, 10)}T12:00:00Z`;

async function streakProject(streak: Record<string, unknown> = streakBody, users: Record<string, string[]> = { alice: [], bob: [], carol: [], dave: [] }) {
  const project = await setupProject({
    definitions: { daily_login: { ...loginDefinition, limit: 1, limitPeriod: "day" }, purchase_completed: purchaseDefinition },
    users,
  });
  const put = await api("PUT", "/v1/admin/streaks/login_streak", { auth: project.admin, body: streak });
  expect(put.status).toBe(201);
  return project;
}

const login = (auth: Credential, userId: string, timestamp?: string, headers?: Record<string, string>) =>
  api<EventLoggedEnvelope>("POST", "/v1/event", { auth, body: { eventId: "daily_login", userId, ...(timestamp ? { timestamp } : {}) }, headers });

const analytics = (auth: Credential, streakId = "login_streak") => api<StreakAnalytics | null>("GET", `/v1/analytics/streak?streakId=${streakId}`, { auth });

describe("streak definitions", () => {
  it("creates (201), replaces (200), lists, reads and deactivates, with the documented defaults", async () => {
    const { admin } = await setupProject();
    const created = await api<StreakDefinition>("PUT", "/v1/admin/streaks/s1", { auth: admin, body: streakBody });
    expect(created.status).toBe(201);
    expect(created.json).toEqual({ streakId: "s1", ...streakBody, description: "", status: "ACTIVE", timezone: "UTC", freezesPerMonth: 0 });
    const replaced = await api<StreakDefinition>("PUT", "/v1/admin/streaks/s1", {
      auth: admin,
      body: { ...streakBody, timezone: "Europe/Berlin", freezesPerMonth: 1 },
    });
    expect(replaced.status).toBe(200);
    await api("PUT", "/v1/admin/streaks/s0", { auth: admin, body: { ...streakBody, period: "week" } });
    const list = await api<StreakDefinition[]>("GET", "/v1/admin/streaks", { auth: admin });
    expect(list.json.map((s) => s.streakId)).toEqual(["s0", "s1"]);
    expect((await api<StreakDefinition>("GET", "/v1/admin/streaks/s1", { auth: admin })).json).toMatchObject({ timezone: "Europe/Berlin", freezesPerMonth: 1 });
    const deleted = await api<StreakDefinition>("DELETE", "/v1/admin/streaks/s1", { auth: admin });
    expect(deleted.json).toMatchObject({ streakId: "s1", status: "INACTIVE" });
    expect((await api("GET", "/v1/admin/streaks/nope", { auth: admin })).status).toBe(404);
    expect((await api("DELETE", "/v1/admin/streaks/nope", { auth: admin })).status).toBe(404);
  });

  it.each([
    [{ ...streakBody, timezone: "Mars/Olympus" }, "timezone"],
    [{ ...streakBody, eventIds: [] }, "eventIds"],
    [{ ...streakBody, goal: 0 }, "goal"],
    [{ ...streakBody, freezesPerMonth: 32 }, "freezesPerMonth"],
    [{ ...streakBody, period: "month" }, "period"],
    [{ ...streakBody, colour: "red" }, "(root)"],
  ])("400 naming the field for %j", async (body, path) => {
    const { admin } = await setupProject();
    const res = await api("PUT", "/v1/admin/streaks/bad", { auth: admin, body });
    expect(res.status).toBe(400);
    expect(res.json.errors?.map((e) => e.path)).toContain(path);
  });

  it("is for admins and API keys only", async () => {
    const { projectId } = await setupProject();
    const user: Credential = { bearer: await userToken(projectId, "alice") };
    expect((await api("PUT", "/v1/admin/streaks/s", { auth: user, body: streakBody })).status).toBe(403);
    expect((await api("GET", "/v1/admin/streaks", { auth: user })).status).toBe(403);
    expect((await analytics(user)).status).toBe(403);
  });
});

describe("streaks on the log path", () => {
  it("reports each listed streak after a log: extended once per period, a backfill joining two runs", async () => {
    const { admin } = await streakProject();
    const first = await login(admin, "alice");
    expect(first.json.data.streaks).toEqual([{ streakId: "login_streak", current: 1, longest: 1, extended: true }]);
    // Past the event's limit the log still qualifies, but the day is already there.
    const again = await login(admin, "alice");
    expect(again.json.data).toMatchObject({ limitReached: true, streaks: [{ streakId: "login_streak", current: 1, longest: 1, extended: false }] });
    // Two days ago: a separate run; then yesterday joins them into one run of 3.
    expect((await login(admin, "alice", noonDaysAgo(2))).json.data.streaks[0]).toEqual({ streakId: "login_streak", current: 1, longest: 1, extended: true });
    expect((await login(admin, "alice", noonDaysAgo(1))).json.data.streaks[0]).toEqual({ streakId: "login_streak", current: 3, longest: 3, extended: true });
    // An event no streak lists reports none.
    const purchase = await api<EventLoggedEnvelope>("POST", "/v1/event", {
      auth: admin,
      body: { eventId: "purchase_completed", userId: "alice", metadata: { amount: 3 } },
    });
    expect(purchase.json.data.streaks).toEqual([]);
  });

  it("does not count a log whose conditions failed", async () => {
    const { admin } = await setupProject();
    await api("PUT", "/v1/admin/streaks/buyer", { auth: admin, body: { ...streakBody, eventIds: ["purchase_completed"] } });
    const failed = await api<EventLoggedEnvelope>("POST", "/v1/event", {
      auth: admin,
      body: { eventId: "purchase_completed", userId: "alice", metadata: { amount: -1 } },
    });
    expect(failed.json.data).toMatchObject({ conditionReached: false, streaks: [{ streakId: "buyer", current: 0, longest: 0, extended: false }] });
  });

  it("cuts days at local midnight of the streak's time zone", async () => {
    const { admin } = await streakProject({ ...streakBody, timezone: "Europe/Berlin" });
    // 23:30 on Jan 14 and 00:30 on Jan 15 in Berlin (UTC+1) are 22:30Z and 23:30Z, both on Jan 14 in UTC.
    expect((await login(admin, "alice", "2026-01-14T22:30:00Z")).json.data.streaks[0]).toMatchObject({ current: 1, extended: true });
    expect((await login(admin, "alice", "2026-01-14T23:30:00Z")).json.data.streaks[0]).toMatchObject({ current: 2, extended: true });
    // In UTC the same two logs are one day.
    const utc = await streakProject();
    expect((await login(utc.admin, "alice", "2026-01-14T22:30:00Z")).json.data.streaks[0]).toMatchObject({ current: 1, extended: true });
    expect((await login(utc.admin, "alice", "2026-01-14T23:30:00Z")).json.data.streaks[0]).toMatchObject({ current: 1, extended: false });
  });

  it("extends a daily streak once under 50 parallel logs, and replays change nothing", async () => {
    const { admin } = await streakProject();
    const results = await Promise.all(Array.from({ length: 50 }, () => login(admin, "alice")));
    expect(results.filter((r) => r.json.data.streaks[0]!.extended)).toHaveLength(1);
    const replayHeaders = { "idempotency-key": "login-1" };
    const first = await login(admin, "bob", undefined, replayHeaders);
    const replay = await login(admin, "bob", undefined, replayHeaders);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.json).toEqual(first.json);
    expect((await login(admin, "bob")).json.data.streaks[0]).toMatchObject({ current: 1, extended: false });
  });
});

describe("GET /v1/analytics/streak", () => {
  it("matches a hand count for a small cohort", async () => {
    const { admin } = await streakProject();
    // alice: 3 days up to today (alive, current 3); bob: 5 and 4 days ago (broken: current 2, longest 2);
    // carol: yesterday (alive, current 1); dave: nothing.
    for (const daysAgo of [2, 1]) await login(admin, "alice", noonDaysAgo(daysAgo));
    await login(admin, "alice");
    for (const daysAgo of [5, 4]) await login(admin, "bob", noonDaysAgo(daysAgo));
    await login(admin, "carol", noonDaysAgo(1));
    await expect
      .poll(async () => (await analytics(admin)).json, POLL)
      .toEqual({
        streakId: "login_streak",
        totalParticipants: 3,
        activeParticipants: 2,
        averageStreakLength: 2,
        longestUserStreak: 3,
        completionRate: 0.33,
      });
  });

  it("answers null for an unknown streak or one without participants, and 400 without streakId", async () => {
    const { admin } = await streakProject();
    const none = await analytics(admin);
    expect(none.status).toBe(200);
    expect(none.text).toBe("null");
    expect((await analytics(admin, "nope")).text).toBe("null");
    const missing = await api("GET", "/v1/analytics/streak", { auth: admin });
    expect(missing.status).toBe(400);
    expect(missing.json.errors?.[0]?.path).toBe("streakId");
  });

  it("is unchanged by a redelivered or reordered consumer batch", async () => {
    const projectKey = newProject();
    // Messages as user objects send them: the same user's state at seq 1, 2, 3 (3 is the newest), plus another user.
    const now = Date.now();
    const message = (userId: string, seq: number, current: number, longest: number, aliveUntil: number): LoggedEventMessage =>
      loggedEvent(projectKey, {
        userId,
        eventId: "daily_login",
        occurredAt: new Date(now).toISOString(),
        updates: { seq, streaks: [{ streakId: "login_streak", current, longest, aliveUntil }], standings: [] },
      });
    const alive = now + DAY_MS;
    const messages = [message("u1", 1, 1, 1, alive - DAY_MS), message("u1", 2, 2, 2, alive), message("u1", 3, 3, 3, alive), message("u2", 1, 1, 4, alive)];
    const deliver = async (bodies: LoggedEventMessage[]) => expect((await deliverToConsumer(bodies)).retryMessages).toEqual([]);
    const read = async () => {
      const { results } = await env.DB.prepare(
        `SELECT 'alive' AS t, alive_until AS k, participants AS n, current_sum AS s FROM streak_alive_buckets WHERE project_key = ?1 AND participants != 0
         UNION ALL SELECT 'longest', longest, participants, 0 FROM streak_longest_counts WHERE project_key = ?1 AND participants != 0 ORDER BY 1, 2`,
      )
        .bind(projectKey)
        .all();
      return results;
    };
    await deliver(messages);
    const once = await read();
    expect(once).toEqual([
      { t: "alive", k: alive, n: 2, s: 4 },
      { t: "longest", k: 3, n: 1, s: 0 },
      { t: "longest", k: 4, n: 1, s: 0 },
    ]);
    await deliver(messages); // redelivered
    await deliver([...messages].reverse()); // reordered
    await deliver([messages[0]!, messages[1]!]); // an old state arriving late
    expect(await read()).toEqual(once);
  });
});

describe("GET /v1/users/{userId}", () => {
  it("shows balance and streaks to the user itself, admins and API keys; other users get 403", async () => {
    const { admin, projectId } = await streakProject({ ...streakBody, freezesPerMonth: 1 });
    await login(admin, "alice", noonDaysAgo(1));
    await login(admin, "alice");
    const own = await api<PointsProfileBody>("GET", "/v1/users/alice", { auth: { bearer: await userToken(projectId, "alice") } });
    expect(own.status).toBe(200);
    expect(own.json).toMatchObject({
      userId: "alice",
      accountId: expect.any(Number),
      balance: 10,
      usergroups: [],
      attributes: {},
      streaks: [{ streakId: "login_streak", current: 2, longest: 2, alive: true, lastPeriod: new Date().toISOString().slice(0, 10) }],
      challenges: [],
    });
    const bobsView = await api<PointsProfileBody>("GET", "/v1/users/bob", { auth: admin });
    expect(bobsView.json.streaks).toEqual([{ streakId: "login_streak", current: 0, longest: 0, alive: false, lastPeriod: null }]);
    expect((await api("GET", "/v1/users/alice", { auth: { bearer: await userToken(projectId, "bob") } })).status).toBe(403);
    expect((await api("GET", "/v1/users/nobody", { auth: admin })).status).toBe(404);
  });

  it("keeps a streak alive across a day a freeze covers", async () => {
    const { admin } = await streakProject({ ...streakBody, freezesPerMonth: 31 });
    await login(admin, "carol", noonDaysAgo(3));
    const profile = await api<PointsProfileBody>("GET", "/v1/users/carol", { auth: admin });
    // Two missed days since (the day after the log is still alive without a freeze): forgiven.
    expect(profile.json.streaks[0]).toMatchObject({ current: 1, alive: true });
  });
});
