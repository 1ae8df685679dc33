import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ChallengeDefinition } from "../../src/domain/game-definitions";
import { MAX_CHALLENGE_PROGRESS } from "../../src/domain/limits";
import type { EventLoggedEnvelope } from "../../src/domain/logged-event";
import { addChallengeProgress } from "../../src/durable/storage/challenges";
import type { GlobalStatsBody } from "../../src/routes/stats";
import type { PointsProfileBody } from "../../src/routes/users";
import { api, POLL, purchaseDefinition, setupProject, userObject, userToken, type Credential } from "../helpers";
import { LOGGED, OF_PROJECT } from "../log-rows";

const threePurchases = { title: "3 purchases this week", eventIds: ["purchase_completed"], metric: "count", target: 3, period: "week", rewardPoints: 100 };

async function challengeProject(challenge: Record<string, unknown> = threePurchases) {
  const project = await setupProject({ definitions: { purchase_completed: { ...purchaseDefinition, limit: 1000 } } });
  const put = await api("PUT", "/v1/admin/challenges/shopper", { auth: project.admin, body: challenge });
  expect(put.status, put.text).toBe(201);
  return project;
}

const purchase = (auth: Credential, amount: number, extra: Record<string, unknown> = {}, headers?: Record<string, string>) =>
  api<EventLoggedEnvelope>("POST", "/v1/event", { auth, body: { eventId: "purchase_completed", userId: "alice", metadata: { amount }, ...extra }, headers });

async function completions(projectId: string) {
  const { results } = await env.DB.prepare(`SELECT event_id, points, metadata FROM ${LOGGED} WHERE project_key = ? AND event_id LIKE 'challenge:%'`)
    .bind(projectId)
    .all<{ event_id: string; points: number; metadata: string }>();
  return results.map((r) => ({ ...r, metadata: JSON.parse(r.metadata) as Record<string, unknown> }));
}

const logged = async (projectId: string) =>
  (await env.DB.prepare(`SELECT COUNT(*) AS n FROM event_log WHERE ${OF_PROJECT}`).bind(projectId).first<{ n: number }>())!.n;

describe("challenge definitions", () => {
  it("creates, replaces, lists, reads and deactivates", async () => {
    const { admin } = await setupProject();
    const created = await api<ChallengeDefinition>("PUT", "/v1/admin/challenges/c1", { auth: admin, body: threePurchases });
    expect(created.status).toBe(201);
    expect(created.json).toEqual({ challengeId: "c1", ...threePurchases, description: "", status: "ACTIVE", timezone: "UTC" });
    expect((await api("PUT", "/v1/admin/challenges/c1", { auth: admin, body: { ...threePurchases, target: 4 } })).status).toBe(200);
    expect((await api<ChallengeDefinition[]>("GET", "/v1/admin/challenges", { auth: admin })).json).toEqual([
      { challengeId: "c1", ...threePurchases, target: 4, description: "", status: "ACTIVE", timezone: "UTC" },
    ]);
    expect((await api<ChallengeDefinition>("DELETE", "/v1/admin/challenges/c1", { auth: admin })).json.status).toBe("INACTIVE");
    expect((await api("GET", "/v1/admin/challenges/c2", { auth: admin })).status).toBe(404);
  });

  it.each([
    [{ ...threePurchases, metric: "sum" }, "field"],
    [{ ...threePurchases, field: "amount" }, "field"],
    [{ ...threePurchases, target: 0 }, "target"],
    [{ ...threePurchases, period: "year" }, "period"],
    [{ ...threePurchases, rewardPoints: 1.5 }, "rewardPoints"],
    [{ ...threePurchases, timezone: "Nowhere/City" }, "timezone"],
    [{ ...threePurchases, eventIds: ["a", "a"] }, "eventIds"],
    [{ ...threePurchases, reward: 5 }, "(root)"],
  ])("400 naming the field for %j", async (body, path) => {
    const { admin, projectId } = await setupProject();
    const res = await api("PUT", "/v1/admin/challenges/bad", { auth: admin, body });
    expect(res.status).toBe(400);
    expect(res.json.errors?.map((e) => e.path)).toContain(path);
    expect((await api("PUT", "/v1/admin/challenges/ok", { auth: { bearer: await userToken(projectId, "alice") }, body: threePurchases })).status).toBe(403);
  });

  it("keeps challenge:<id> for completions: no event definition may take it", async () => {
    const { admin } = await setupProject();
    const res = await api("PUT", "/v1/admin/events/challenge:shopper", { auth: admin, body: { title: "x", reward: { default: 1 } } });
    expect(res.status).toBe(400);
    expect(res.json.errors?.[0]?.path).toBe("eventId");
  });
});

describe("challenges on the log path", () => {
  it("completes once at the target: the bonus reaches the balance, the event log and the stats", async () => {
    const { admin, projectId } = await challengeProject();
    expect((await purchase(admin, 10)).json.data.challenges).toEqual([
      { challengeId: "shopper", progress: 1, target: 3, completed: false, completedNow: false },
    ]);
    await purchase(admin, 10);
    const third = await purchase(admin, 10);
    expect(third.json.data).toMatchObject({
      points: 10,
      balance: 130,
      challenges: [{ challengeId: "shopper", progress: 3, target: 3, completed: true, completedNow: true }],
    });
    const fourth = await purchase(admin, 10);
    expect(fourth.json.data).toMatchObject({ balance: 140, challenges: [{ progress: 4, completed: true, completedNow: false }] });

    await expect.poll(() => logged(projectId), POLL).toBe(5);
    const [completion] = await completions(projectId);
    const { results } = await env.DB.prepare(`SELECT event_uid FROM ${LOGGED} WHERE project_key = ? AND event_id = 'purchase_completed' ORDER BY id`)
      .bind(projectId)
      .all<{ event_uid: string }>();
    expect(completion).toEqual({
      event_id: "challenge:shopper",
      points: 100,
      metadata: { challengeId: "shopper", periodStart: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/), triggeredBy: results[2]!.event_uid },
    });
    const stats = await api<GlobalStatsBody>("GET", "/v1/stats/event?period=1d", { auth: admin });
    expect(stats.json.data.totalPoints).toBe(140);
    expect(stats.json.data.eventBreakdown["challenge:shopper"]).toEqual({ count: 1, users: 1, points: 100 });
  });

  it("awards the bonus once under 50 parallel logs, and a replay of the completing log awards nothing", async () => {
    const { admin, projectId } = await challengeProject();
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => purchase(admin, 1, {}, { "idempotency-key": `p-${i}` })));
    const completing = results.filter((r) => r.json.data.challenges[0]!.completedNow);
    expect(completing).toHaveLength(1);
    expect(Math.max(...results.map((r) => r.json.data.balance))).toBe(150);
    const key = `p-${results.indexOf(completing[0]!)}`;
    const replay = await purchase(admin, 1, {}, { "idempotency-key": key });
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.json).toEqual(completing[0]!.json);
    await expect.poll(() => logged(projectId), POLL).toBe(51);
    expect(await completions(projectId)).toHaveLength(1);
  });

  it("sums a metadata field, adding nothing for a missing or non-numeric value", async () => {
    const { admin } = await challengeProject({ ...threePurchases, metric: "sum", field: "amount", target: 50.5, period: "once", rewardPoints: 5 });
    expect((await purchase(admin, 20.25)).json.data.challenges[0]).toMatchObject({ progress: 20.25, completed: false });
    expect((await purchase(admin, 30.25)).json.data.challenges[0]).toMatchObject({ progress: 50.5, completedNow: true });
    // A failed condition (amount <= 0) does not count either.
    expect((await purchase(admin, -5)).json.data.challenges[0]).toMatchObject({ progress: 50.5, completedNow: false });
  });

  it("refuses a summed value above 1e9 (400 naming the field, nothing counted) and keeps stored progress finite", async () => {
    const { admin, projectId } = await challengeProject({ ...threePurchases, metric: "sum", field: "km", target: 1e12, period: "once", rewardPoints: 5 });
    for (let i = 0; i < 2; i++) {
      const huge = await purchase(admin, 10, { metadata: { amount: 10, km: 1e308 } });
      expect(huge.status).toBe(400);
      expect(huge.json).toMatchObject({ errors: [{ path: "metadata.km", message: "must be at most 1000000000 (summed by challenge shopper)" }] });
    }
    const atBound = await purchase(admin, 10, { metadata: { amount: 10, km: 1e9 } });
    expect(atBound.json.data.challenges[0]).toMatchObject({ progress: 1e9, completed: false });
    const profile = await api<PointsProfileBody>("GET", "/v1/users/alice", { auth: admin });
    expect(profile.json).toMatchObject({ balance: 10, challenges: [{ challengeId: "shopper", progress: 1e9 }] });
    // However many logs add to it, stored progress stops at MAX_CHALLENGE_PROGRESS: never Infinity (null in JSON).
    const stored = await runInDurableObject(userObject(projectId, "alice"), (_instance, state) => {
      addChallengeProgress(state.storage.sql, "other", "once", 0, 1e308);
      return addChallengeProgress(state.storage.sql, "other", "once", 0, 1e308).progress;
    });
    expect(stored).toBe(MAX_CHALLENGE_PROGRESS);
  });

  it("counts each log in the period of its own event time, local to the challenge's time zone", async () => {
    const { admin } = await challengeProject({ ...threePurchases, timezone: "Europe/Berlin", target: 2 });
    // Sunday 23:30 and Monday 00:30 in Berlin: two weeks, one log each.
    expect((await purchase(admin, 5, { timestamp: "2026-11-22T22:30:00Z" })).json.data.challenges[0]).toMatchObject({ progress: 1 });
    expect((await purchase(admin, 5, { timestamp: "2026-11-22T23:30:00Z" })).json.data.challenges[0]).toMatchObject({ progress: 1 });
    // A backfill into the first week completes that week.
    expect((await purchase(admin, 5, { timestamp: "2026-11-17T10:00:00Z" })).json.data.challenges[0]).toMatchObject({ progress: 2, completedNow: true });
  });

  it("lists the user's challenges with progress for the current period in the profile", async () => {
    const { admin, projectId } = await challengeProject();
    await purchase(admin, 10);
    await purchase(admin, 10, { timestamp: new Date(Date.now() - 21 * 86_400_000).toISOString() });
    const profile = await api<PointsProfileBody>("GET", "/v1/users/alice", { auth: { bearer: await userToken(projectId, "alice") } });
    expect(profile.json.challenges).toEqual([
      { challengeId: "shopper", periodStart: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/), progress: 1, target: 3, completed: false },
    ]);
    const monday = new Date(`${profile.json.challenges[0]!.periodStart}T00:00:00Z`);
    expect(monday.getUTCDay()).toBe(1);
  });
});
