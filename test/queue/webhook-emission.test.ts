// What the stats consumer and the closing job hand to the webhooks queue. The hand-over (webhookHandover.send)
// is observed in place of the real queue, so these tests see exactly what would be sent, and when.
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { dayToDate, firstDayOfPeriod, periodAt } from "../../src/domain/calendar";
import type { AdjustmentMessage } from "../../src/domain/ledger";
import type { EventLoggedEnvelope } from "../../src/domain/logged-event";
import type { WebhookEvent, WebhookEventType, WebhookFanoutMessage } from "../../src/domain/webhook-events";
import { recordStandings, type BoardPeriod } from "../../src/db/leaderboards";
import { runScheduledWork } from "../../src/services/scheduled";
import { webhookHandover } from "../../src/services/webhook-emission";
import { deliver, loggedEvent } from "../fixtures";
import { api, loginDefinition, POLL, purchaseDefinition, setupProject, type Credential } from "../helpers";
import { LOGGED } from "../log-rows";
import { DEAD_LETTER_QUEUE } from "../../src/queue/consumer";
import { deliverAt } from "./outage";

const DAY = 86_400_000;

/** Every hand-over (one call each) since the test began, as the parts it would have sent. */
let handovers: WebhookFanoutMessage[][] = [];
let refuse = false;

beforeEach(() => {
  handovers = [];
  refuse = false;
  vi.spyOn(webhookHandover, "send").mockImplementation(async (_queue, parts) => {
    if (refuse) throw new Error("webhooks queue unavailable");
    handovers.push(structuredClone([...parts]));
  });
});
afterEach(() => vi.restoreAllMocks());

/** The events handed over for one project, in order. */
const handedOver = (projectId: string, type?: WebhookEventType): WebhookEvent[] =>
  handovers
    .flat()
    .flatMap((part) => part.events)
    .filter((event) => event.projectId === projectId && (type === undefined || event.type === type));

async function subscribe(admin: Credential, eventTypes: WebhookEventType[]) {
  const res = await api("POST", "/v1/admin/webhooks", { auth: admin, body: { url: "https://example.com/hook", eventTypes } });
  expect(res.status, res.text).toBe(201);
}

describe("the stats consumer's hand-over", () => {
  it("sends nothing for projects without endpoints, and acks", async () => {
    const { projectId } = await setupProject();
    const result = await deliver([loggedEvent(projectId), loggedEvent(projectId, { userId: "bob" })]);
    expect(result.explicitAcks).toHaveLength(2);
    expect(handovers).toEqual([]);
  });

  it("hands a batch's events over in one send before acking, only for subscribed projects and types; a redelivery emits the same ids", async () => {
    const subscribed = await setupProject();
    const other = await setupProject();
    await subscribe(subscribed.admin, ["event.logged", "points.awarded"]);
    const bodies = [
      loggedEvent(subscribed.projectId, { updates: { seq: 1, streaks: [], standings: [] } }),
      loggedEvent(other.projectId),
      loggedEvent(subscribed.projectId, { points: 0, balanceAfter: 0, userId: "bob", updates: { seq: 1, streaks: [], standings: [] } }),
    ];
    const first = await deliver(bodies);
    expect(first.explicitAcks).toHaveLength(3);
    expect(handovers).toHaveLength(1);
    expect(handovers[0]).toHaveLength(1);
    const events = handedOver(subscribed.projectId);
    const [alice, , bob] = bodies;
    expect(events.map((event) => event.id)).toEqual([
      `evt_${alice!.eventUid}_event.logged`,
      `evt_${alice!.eventUid}_points.awarded`,
      `evt_${bob!.eventUid}_event.logged`,
    ]);
    expect(handedOver(other.projectId)).toEqual([]);

    await deliver(bodies, { attempts: 2 });
    expect(handovers).toHaveLength(2);
    expect(handovers[1]!.flatMap((part) => part.events)).toEqual(handovers[0]!.flatMap((part) => part.events));
  });

  it("retries the messages whose events it could not hand over, never acks them; the others are acked", async () => {
    const subscribed = await setupProject();
    const other = await setupProject();
    await subscribe(subscribed.admin, ["points.awarded"]);
    const emitting = loggedEvent(subscribed.projectId);
    const silent = [loggedEvent(subscribed.projectId, { points: 0, balanceAfter: 0 }), loggedEvent(other.projectId)];
    refuse = true;
    const refused = await deliver([emitting, ...silent], { ids: ["emitting", "silent-1", "silent-2"] });
    expect(refused.retryMessages.map((m) => m.msgId)).toEqual(["emitting"]);
    expect(refused.explicitAcks.sort()).toEqual(["silent-1", "silent-2"]);
    // Ingested all the same (the retry changes nothing there), and handed over on the retry.
    const stored = await env.DB.prepare(`SELECT COUNT(*) AS n FROM ${LOGGED} WHERE event_uid = ?`).bind(emitting.eventUid).first<{ n: number }>();
    expect(stored!.n).toBe(1);
    refuse = false;
    const retried = await deliver([emitting], { attempts: 2, ids: ["emitting"] });
    expect(retried.explicitAcks).toEqual(["emitting"]);
    expect(handedOver(subscribed.projectId).map((event) => event.id)).toEqual([`evt_${emitting.eventUid}_points.awarded`]);
  });

  it("splits a hand-over past the queue's message size, in order, within one call", async () => {
    const { projectId, admin } = await setupProject();
    await subscribe(admin, ["event.logged"]);
    const bodies = Array.from({ length: 12 }, (_, i) => loggedEvent(projectId, { userId: `u${i}`, metadata: { note: "x".repeat(30_000) } }));
    const result = await deliver(bodies);
    expect(result.explicitAcks).toHaveLength(12);
    expect(handovers).toHaveLength(1);
    const parts = handovers[0]!;
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) expect(new TextEncoder().encode(JSON.stringify(part)).length).toBeLessThan(128_000);
    expect(parts.flatMap((part) => part.events).map((event) => event.id)).toEqual(bodies.map((body) => `evt_${body.eventUid}_event.logged`));
  });

  it("emits reward.adjusted for an adjustment (one queued before the balance was carried: balanceAfter null)", async () => {
    const { projectId, admin } = await setupProject();
    await subscribe(admin, ["reward.adjusted"]);
    const adjustment: AdjustmentMessage = {
      kind: "adjustment",
      adjustmentUid: crypto.randomUUID(),
      projectKey: projectId,
      userId: "alice",
      eventUid: crypto.randomUUID(),
      seq: 4,
      previousAmount: 5,
      newAmount: 0,
      pointsDelta: -5,
      reason: "order returned",
      adjustedAt: "2025-08-03T09:00:00.000Z",
    };
    expect((await deliver([adjustment])).explicitAcks).toHaveLength(1);
    expect(handedOver(projectId)).toEqual([
      {
        id: `adj_${adjustment.adjustmentUid}_reward.adjusted`,
        type: "reward.adjusted",
        createdAt: adjustment.adjustedAt,
        projectId,
        data: {
          userId: "alice",
          sequence: 4,
          eventUid: adjustment.eventUid,
          adjustmentUid: adjustment.adjustmentUid,
          previousAmount: 5,
          newAmount: 0,
          pointsDelta: -5,
          reason: "order returned",
          adjustedAt: adjustment.adjustedAt,
          // A message queued before adjustments carried the balance.
          balanceAfter: null,
        },
      },
    ]);
  });
});

describe("events from the API's logs, through the users' objects and the stats queue", () => {
  it("a challenge completed by 200 concurrent logs emits exactly one challenge.completed", async () => {
    const { projectId, admin } = await setupProject({ definitions: { purchase_completed: { ...purchaseDefinition, limit: 1000 } } });
    const challenge = { title: "3 purchases", eventIds: ["purchase_completed"], metric: "count", target: 3, period: "week", rewardPoints: 100 };
    expect((await api("PUT", "/v1/admin/challenges/shopper", { auth: admin, body: challenge })).status).toBe(201);
    await subscribe(admin, ["event.logged", "challenge.completed"]);
    const results = await Promise.all(
      Array.from({ length: 200 }, () =>
        api<EventLoggedEnvelope>("POST", "/v1/event", { auth: admin, body: { eventId: "purchase_completed", userId: "alice", metadata: { amount: 1 } } }),
      ),
    );
    expect(results.every((res) => res.status === 200)).toBe(true);
    expect(results.filter((res) => res.json.data.challenges[0]?.completedNow)).toHaveLength(1);
    // Every log's event.logged has been handed over, so the completion's message has too.
    await expect.poll(() => new Set(handedOver(projectId, "event.logged").map((event) => event.id)).size, POLL).toBe(200);
    await vi.waitFor(() => expect(handedOver(projectId, "challenge.completed")).toHaveLength(1), POLL);
    const [completed] = handedOver(projectId, "challenge.completed");
    const completing = results.find((res) => res.json.data.challenges[0]?.completedNow)!.json.data;
    expect(completed!.data).toMatchObject({ userId: "alice", challengeId: "shopper", bonusPoints: 100, balanceAfter: completing.balance });
    // The completing log and the completion share one sequence.
    const log = handedOver(projectId, "event.logged").find((event) => event.data.eventUid === completed!.data.triggeredBy)!;
    expect(log.data.sequence).toBe(completed!.data.sequence);
  });

  it("an adjustment through the API emits reward.adjusted with the balance after it", async () => {
    const { projectId, admin } = await setupProject({ definitions: { purchase_completed: purchaseDefinition } });
    await subscribe(admin, ["event.logged", "reward.adjusted"]);
    const logged = await api<EventLoggedEnvelope>("POST", "/v1/event", {
      auth: admin,
      body: { eventId: "purchase_completed", userId: "alice", metadata: { amount: 20 } },
    });
    expect(logged.status, logged.text).toBe(200);
    await vi.waitFor(() => expect(handedOver(projectId, "event.logged")).toHaveLength(1), POLL);
    const loyaltyEventId = handedOver(projectId, "event.logged")[0]!.data.loyaltyEventId;
    const refund = await api("POST", `/v1/loyalty-events/${loyaltyEventId}/adjustments`, { auth: admin, body: { rewardAmount: 5, reason: "partial refund" } });
    expect(refund.status, refund.text).toBe(200);
    await vi.waitFor(() => expect(handedOver(projectId, "reward.adjusted")).toHaveLength(1), POLL);
    const profile = await api<{ balance: number }>("GET", "/v1/users/alice", { auth: admin });
    expect(handedOver(projectId, "reward.adjusted")[0]!.data).toMatchObject({
      userId: "alice",
      newAmount: 5,
      pointsDelta: 5 - logged.json.data.points,
      reason: "partial refund",
      balanceAfter: profile.json.balance,
    });
    expect(profile.json.balance).toBe(5);
  });

  it("emits streak.extended only when a log grew the streak", async () => {
    const { projectId, admin } = await setupProject({ definitions: { daily_login: loginDefinition } });
    const streak = { title: "Login streak", eventIds: ["daily_login"], period: "day", goal: 30 };
    expect((await api("PUT", "/v1/admin/streaks/logins", { auth: admin, body: streak })).status).toBe(201);
    await subscribe(admin, ["event.logged", "streak.extended"]);
    const login = async (timestamp?: string) => {
      const res = await api<EventLoggedEnvelope>("POST", "/v1/event", {
        auth: admin,
        body: { eventId: "daily_login", userId: "alice", ...(timestamp && { timestamp }) },
      });
      expect(res.status, res.text).toBe(200);
      // One log at a time through the queue, so each one's events are known before the next.
      const logs = handedOver(projectId, "event.logged").length + 1;
      await expect.poll(() => handedOver(projectId, "event.logged").length, POLL).toBe(logs);
      return res.json.data.streaks[0]!;
    };
    const at = (daysAgo: number) => new Date(Date.now() - daysAgo * DAY).toISOString();
    expect(await login()).toMatchObject({ current: 1, extended: true }); // a new streak: grew 0 → 1
    expect(await login()).toMatchObject({ current: 1, extended: false }); // the same day again
    expect(await login(at(5))).toMatchObject({ current: 1, extended: true }); // an older day, apart from today's run
    expect(await login(at(1))).toMatchObject({ current: 2, extended: true }); // yesterday: the run grows
    const extended = handedOver(projectId, "streak.extended");
    expect(extended.map((event) => event.data.current)).toEqual([1, 2]);
    expect(extended[1]).toMatchObject({ data: { userId: "alice", streakId: "logins", longest: 2 } });
  });
});

describe("leaderboard.period_closed", () => {
  const weekAgo = (weeksAgo: number) => periodAt(Date.now() - weeksAgo * 7 * DAY, "week", "UTC");
  const standings = (board: BoardPeriod, scores: number[]) =>
    env.DB.batch(
      recordStandings(
        env.DB,
        scores.map((score, i) => ({ ...board, userId: `u${String(i + 1).padStart(2, "0")}`, score, reachedAt: 1_000 + i, seq: 1 })),
      ),
    );
  const announcedAt = async (board: BoardPeriod) =>
    (
      await env.DB.prepare("SELECT announced_at AS a FROM leaderboard_periods WHERE project_key = ? AND leaderboard_id = ? AND calendar = ? AND period = ?")
        .bind(board.projectKey, board.leaderboardId, board.calendar, board.period)
        .first<{ a: number | null }>()
    )?.a;

  it("fires once per closed period, with the top 10, over two runs of the scheduled work", async () => {
    const { projectId, admin } = await setupProject();
    const quiet = await setupProject();
    await subscribe(admin, ["leaderboard.period_closed"]);
    const board: BoardPeriod = { projectKey: projectId, leaderboardId: "weekly", calendar: "week|UTC", period: weekAgo(2) };
    const current: BoardPeriod = { ...board, period: weekAgo(0) };
    const unsubscribed: BoardPeriod = { ...board, projectKey: quiet.projectId };
    // 12 participants; u03 and u04 tie at 80.
    await standings(board, [100, 90, 80, 80, 70, 60, 50, 40, 30, 20, 10, 5]);
    await standings(current, [1, 2]);
    await standings(unsubscribed, [3]);

    await runScheduledWork(env);
    await runScheduledWork(env);
    const closed = handedOver(projectId);
    expect(closed).toHaveLength(1);
    expect(closed[0]).toMatchObject({
      id: `lb_${projectId}_weekly_week|UTC_${board.period}`,
      type: "leaderboard.period_closed",
      projectId,
      data: {
        leaderboardId: "weekly",
        calendar: { period: "week", timezone: "UTC" },
        period: board.period,
        periodStart: dayToDate(firstDayOfPeriod(board.period, "week")),
        periodEnd: dayToDate(firstDayOfPeriod(board.period, "week") + 6),
        participants: 12,
      },
    });
    expect(closed[0]!.data.top).toEqual(
      [100, 90, 80, 80, 70, 60, 50, 40, 30, 20].map((score, i) => ({ rank: score === 80 ? 3 : i + 1, userId: `u${String(i + 1).padStart(2, "0")}`, score })),
    );
    expect(await announcedAt(board)).toEqual(expect.any(Number));
    // The current period is not closed; the unsubscribed project's period is marked without a hand-over.
    expect(await announcedAt(current)).toBeNull();
    expect(await announcedAt(unsubscribed)).toEqual(expect.any(Number));
    expect(handedOver(quiet.projectId)).toEqual([]);
  });

  it("leaves a period unannounced when the hand-over fails, and announces it with the same id on the next run", async () => {
    const { projectId, admin } = await setupProject();
    await subscribe(admin, ["leaderboard.period_closed"]);
    const board: BoardPeriod = { projectKey: projectId, leaderboardId: "weekly", calendar: "week|UTC", period: weekAgo(3) };
    await standings(board, [7, 3]);
    refuse = true;
    await runScheduledWork(env);
    expect(await announcedAt(board)).toBeNull();
    refuse = false;
    await runScheduledWork(env);
    expect(handedOver(projectId).map((event) => event.id)).toEqual([`lb_${projectId}_weekly_week|UTC_${board.period}`]);
    expect(await announcedAt(board)).toEqual(expect.any(Number));
  });
});

describe("a dead letter's replay", () => {
  it("hands over what its message emits, with the ids the queue's delivery would have given; refused, the replay is not marked done", async () => {
    const { projectId, admin } = await setupProject();
    await subscribe(admin, ["event.logged"]);
    const body = loggedEvent(projectId, { updates: { seq: 1, streaks: [], standings: [] } });
    await deliverAt([body], { queue: DEAD_LETTER_QUEUE, environment: env });
    const list = await api<{ items: Array<{ id: string; replayedAt: string | null }> }>("GET", "/v1/admin/dead-letters", { auth: admin });
    const [letter] = list.json.items;

    refuse = true;
    const refused = await api("POST", `/v1/admin/dead-letters/${letter!.id}/replay`, { auth: admin });
    expect(refused.status).toBe(503);
    const after = await api<{ items: Array<{ id: string; replayedAt: string | null }> }>("GET", "/v1/admin/dead-letters", { auth: admin });
    expect(after.json.items[0]!.replayedAt).toBeNull();

    refuse = false;
    const replayed = await api("POST", `/v1/admin/dead-letters/${letter!.id}/replay`, { auth: admin });
    expect(replayed.status, replayed.text).toBe(200);
    expect(handedOver(projectId).map((event) => [event.type, event.id])).toEqual([["event.logged", `evt_${body.eventUid}_event.logged`]]);
  });
});
