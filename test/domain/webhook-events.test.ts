import { describe, expect, it } from "vitest";
import { completionEvent } from "../../src/domain/challenges";
import type { ChallengeDefinition } from "../../src/domain/game-definitions";
import type { AdjustmentMessage } from "../../src/domain/ledger";
import type { LoggedEventMessage, StreakState } from "../../src/domain/logged-event";
import {
  periodClosedEvent,
  streakGrew,
  WEBHOOK_DATA_SCHEMAS,
  WEBHOOK_EVENT_TYPES,
  webhookEventId,
  webhookEventsOf,
  WebhookEventSchema,
  type WebhookEvent,
  type WebhookEventType,
} from "../../src/domain/webhook-events";

const ALL: ReadonlySet<WebhookEventType> = new Set(WEBHOOK_EVENT_TYPES);
const UID = "0b7f0c1e-2f6a-4c1e-9a53-3c2b1d4e5f60";
const RECORDED = "2026-05-04T10:00:00.000Z";
const RECORDED_MS = Date.parse(RECORDED);

/** A log as a user's object queues it: 10 points, balance 110, sequence 7. */
function log(overrides: Partial<LoggedEventMessage> = {}): LoggedEventMessage {
  return {
    ledgerId: 5 * 2 ** 24 + 3,
    eventUid: UID,
    projectKey: "acme",
    programId: 1,
    userId: "alice",
    accountId: 5,
    eventId: "purchase_completed",
    definitionVersion: 1,
    eventType: "TRANSACTION",
    loyaltyEventType: null,
    metadata: { amount: 10, currency: "EUR" },
    occurredAt: RECORDED,
    recordedAt: RECORDED,
    points: 10,
    balanceBefore: 100,
    balanceAfter: 110,
    userGroupId: "default",
    conditionReached: true,
    limitReached: false,
    reward: { rate: 1, value: 10, uncappedPoints: 10, maximumReward: null, reasons: [] },
    idempotencyKey: null,
    ruleId: 1,
    rewardType: "LOYALTY_POINTS",
    rewardAmount: 10,
    rewardCurrency: "EUR",
    customerMessage: null,
    updates: { seq: 7, streaks: [], standings: [] },
    ...overrides,
  };
}

const challenge = { challengeId: "three_purchases", version: 2, rewardPoints: 100 } as ChallengeDefinition;

/** The completion entry applyLog queues after the log (with the log's sequence). */
const completion = (): LoggedEventMessage => ({
  ...completionEvent({
    eventUid: "c0c0c0c0-0000-4000-8000-000000000001",
    profile: { projectKey: "acme", programId: 1, userId: "alice", accountId: 5, usergroups: [], registrationVersion: 1, balance: 110 },
    challenge,
    periodStart: "2026-05-04",
    triggeredBy: UID,
    occurredAt: RECORDED,
    recordedAt: RECORDED,
  }),
  ledgerId: 5 * 2 ** 24 + 4,
  seq: 7,
});

const streak = (current: number, previous: StreakState["previous"], longest = Math.max(current, previous?.longest ?? 0)): StreakState => ({
  streakId: "daily_login_streak",
  current,
  longest,
  aliveUntil: RECORDED_MS + 2 * 86_400_000,
  previous,
});

/** Every event is a valid envelope whose data parses with its type's schema. */
function expectValid(events: WebhookEvent[]) {
  for (const event of events) {
    expect(WebhookEventSchema.parse(event)).toEqual(event);
    expect(WEBHOOK_DATA_SCHEMAS[event.type as WebhookEventType].parse(event.data)).toEqual(event.data);
    expect(event.id.length).toBeLessThanOrEqual(200);
  }
}

const types = (events: WebhookEvent[]) => events.map((event) => event.type);

describe("webhookEventsOf", () => {
  it("emits a log's events in the order of the types, with ids derived from the event", () => {
    const events = webhookEventsOf(log(), ALL);
    expectValid(events);
    expect(types(events)).toEqual(["event.logged", "points.awarded"]);
    expect(events.map((event) => event.id)).toEqual([`evt_${UID}_event.logged`, `evt_${UID}_points.awarded`]);
    expect(events[0]).toEqual({
      id: `evt_${UID}_event.logged`,
      type: "event.logged",
      createdAt: RECORDED,
      projectId: "acme",
      data: {
        userId: "alice",
        sequence: 7,
        eventUid: UID,
        loyaltyEventId: 5 * 2 ** 24 + 3,
        eventId: "purchase_completed",
        points: 10,
        balanceAfter: 110,
        conditionReached: true,
        limitReached: false,
        rewardType: "LOYALTY_POINTS",
        rewardAmount: 10,
        rewardCurrency: "EUR",
        occurredAt: RECORDED,
        metadata: { amount: 10, currency: "EUR" },
      },
    });
    expect(events[1]!.data).toMatchObject({ source: "event", challengeId: null, points: 10, balanceAfter: 110, sequence: 7 });
  });

  it("emits only the subscribed types, and nothing without subscriptions", () => {
    expect(webhookEventsOf(log(), new Set())).toEqual([]);
    expect(types(webhookEventsOf(log(), new Set(["points.awarded", "challenge.completed"])))).toEqual(["points.awarded"]);
    expect(webhookEventsOf(log({ points: 0, balanceAfter: 100 }), new Set(["points.awarded"]))).toEqual([]);
  });

  it("is the same for the same message: a redelivery emits the same ids and payloads", () => {
    const message = log({ updates: { seq: 7, streaks: [streak(2, null)], standings: [] } });
    expect(webhookEventsOf(structuredClone(message), ALL)).toEqual(webhookEventsOf(message, ALL));
  });

  it("emits limit.reached with what the log's reason says of the limit, and no points", () => {
    const reason = { code: "LIMIT_REACHED", limit: 1, limitPeriod: "day", periodKey: "2026-05-04" };
    const message = log({
      points: 0,
      balanceAfter: 100,
      limitReached: true,
      reward: { rate: 5, value: null, uncappedPoints: 5, maximumReward: null, reasons: [reason] },
    });
    const events = webhookEventsOf(message, ALL);
    expectValid(events);
    expect(types(events)).toEqual(["event.logged", "limit.reached"]);
    expect(events[1]!.data).toEqual({
      userId: "alice",
      sequence: 7,
      eventUid: UID,
      loyaltyEventId: 5 * 2 ** 24 + 3,
      eventId: "purchase_completed",
      limit: 1,
      limitPeriod: "day",
      periodKey: "2026-05-04",
      occurredAt: RECORDED,
    });
  });

  it("emits a challenge completion's bonus and completion under the completing log's sequence, and no event.logged", () => {
    const events = webhookEventsOf(completion(), ALL);
    expectValid(events);
    expect(types(events)).toEqual(["points.awarded", "challenge.completed"]);
    const uid = "c0c0c0c0-0000-4000-8000-000000000001";
    expect(events.map((event) => event.id)).toEqual([`evt_${uid}_points.awarded`, `evt_${uid}_challenge.completed`]);
    expect(events[0]!.data).toMatchObject({
      source: "challenge",
      eventId: "challenge:three_purchases",
      challengeId: "three_purchases",
      points: 100,
      balanceAfter: 210,
      sequence: 7,
    });
    expect(events[1]!.data).toEqual({
      userId: "alice",
      sequence: 7,
      eventUid: uid,
      loyaltyEventId: 5 * 2 ** 24 + 4,
      challengeId: "three_purchases",
      periodStart: "2026-05-04",
      bonusPoints: 100,
      balanceAfter: 210,
      triggeredBy: UID,
    });
    // One sequence: the log's events and the completion's, ordered by the list of types (then by balance).
    const all = [...webhookEventsOf(log(), ALL), ...events];
    expect(new Set(all.map((event) => (event.data as { sequence: number }).sequence))).toEqual(new Set([7]));
    const order = [...all].sort((a, b) => WEBHOOK_EVENT_TYPES.indexOf(a.type as WebhookEventType) - WEBHOOK_EVENT_TYPES.indexOf(b.type as WebhookEventType));
    expect(types(order)).toEqual(["event.logged", "points.awarded", "points.awarded", "challenge.completed"]);
  });

  it("emits streak.extended only when the streak's current run grew", () => {
    const alive = { current: 3, longest: 5, aliveUntil: RECORDED_MS + 86_400_000 };
    const cases: Array<[string, StreakState, boolean]> = [
      ["first period", streak(1, null), true],
      ["one more period", streak(4, alive, 5), true],
      ["a backfill that leaves the current run as it was", streak(3, alive, 5), false],
      ["a backfill that only lengthens an older run", streak(3, alive, 6), false],
      ["a new run after the last one broke", streak(1, { ...alive, aliveUntil: RECORDED_MS - 1 }, 5), true],
      ["a state queued without what came before", { ...streak(2, null), previous: undefined }, true],
    ];
    for (const [name, state, grew] of cases) {
      expect(streakGrew(state, RECORDED_MS), name).toBe(grew);
      const events = webhookEventsOf(log({ updates: { seq: 7, streaks: [state], standings: [] } }), new Set(["streak.extended"]));
      expectValid(events);
      expect(events.length, name).toBe(grew ? 1 : 0);
    }
    const [event] = webhookEventsOf(log({ updates: { seq: 7, streaks: [streak(4, alive, 5)], standings: [] } }), ALL).filter(
      (e) => e.type === "streak.extended",
    );
    expect(event).toMatchObject({
      id: `evt_${UID}_streak.extended_daily_login_streak`,
      data: { userId: "alice", sequence: 7, streakId: "daily_login_streak", current: 4, longest: 5, eventUid: UID },
    });
  });

  it("emits reward.adjusted for an adjustment, under its own sequence", () => {
    const adjustment: AdjustmentMessage = {
      kind: "adjustment",
      adjustmentUid: "a1a1a1a1-0000-4000-8000-000000000002",
      projectKey: "acme",
      userId: "alice",
      eventUid: UID,
      seq: 8,
      previousAmount: 10,
      newAmount: 0,
      pointsDelta: -10,
      reason: "order returned",
      adjustedAt: "2026-05-05T09:00:00.000Z",
      balanceAfter: 35,
    };
    const events = webhookEventsOf(adjustment, ALL);
    expectValid(events);
    expect(events).toEqual([
      {
        id: "adj_a1a1a1a1-0000-4000-8000-000000000002_reward.adjusted",
        type: "reward.adjusted",
        createdAt: "2026-05-05T09:00:00.000Z",
        projectId: "acme",
        data: {
          userId: "alice",
          sequence: 8,
          eventUid: UID,
          adjustmentUid: "a1a1a1a1-0000-4000-8000-000000000002",
          previousAmount: 10,
          newAmount: 0,
          pointsDelta: -10,
          reason: "order returned",
          adjustedAt: "2026-05-05T09:00:00.000Z",
          balanceAfter: 35,
        },
      },
    ]);
    expect(webhookEventsOf(adjustment, new Set(["points.awarded"]))).toEqual([]);
  });

  it("says sequence null for a message queued before sequences were carried", () => {
    const [event] = webhookEventsOf(log({ updates: undefined }), new Set(["event.logged"]));
    expect(event!.data.sequence).toBeNull();
  });
});

describe("webhookEventId", () => {
  it("joins the parts, and bounds a long id at 200 characters by a hash of the whole", () => {
    expect(webhookEventId("lb", "acme", "weekly", "week|UTC", 2940)).toBe("lb_acme_weekly_week|UTC_2940");
    const long = (tail: string) => webhookEventId("lb", "p".repeat(64), "b".repeat(128), "week|America/Argentina/Buenos_Aires", tail);
    expect(long("1")).toHaveLength(200);
    expect(long("1")).toBe(long("1"));
    expect(long("1")).not.toBe(long("2"));
  });
});

describe("periodClosedEvent", () => {
  it("names the period once, with its days and the top 10", () => {
    const top = Array.from({ length: 12 }, (_, i) => ({ rank: i + 1, userId: `u${i + 1}`, score: 100 - i }));
    const closed = {
      projectKey: "acme",
      leaderboardId: "weekly_points",
      calendar: "week|Europe/Berlin",
      period: 2940,
      participants: 12,
      closedAt: RECORDED_MS,
      top,
    };
    const event = periodClosedEvent(closed);
    expectValid([event]);
    expect(event).toEqual(periodClosedEvent(structuredClone(closed)));
    expect(event.id).toBe("lb_acme_weekly_points_week|Europe/Berlin_2940");
    expect(event).toMatchObject({ type: "leaderboard.period_closed", createdAt: RECORDED, projectId: "acme" });
    expect(event.data).toMatchObject({
      leaderboardId: "weekly_points",
      calendar: { period: "week", timezone: "Europe/Berlin" },
      period: 2940,
      // Week 2940 (weeks counted from Monday 1969-12-29) starts on Monday 2026-05-04.
      periodStart: "2026-05-04",
      periodEnd: "2026-05-10",
      closedAt: RECORDED,
      participants: 12,
    });
    expect(event.data.top).toEqual(top.slice(0, 10));
  });
});
