import { z } from "@hono/zod-openapi";
import { dayToDate, firstDayOfPeriod, lastDayOfPeriod, type CalendarPeriod } from "./calendar";
import { COMPLETION_EVENT_PREFIX, REWARD_TYPES } from "./definition-vocabulary";
import type { AdjustmentMessage } from "./ledger";
import type { LoggedEventMessage, StreakState } from "./logged-event";
import type { PointsChangeMessage } from "./points-lifecycle";
import { isAdjustment, isPointsChange, type QueueMessage } from "./queue-message";

/**
 * What a webhook tells a project's receivers. Each event is derived from what a user's object committed (the
 * stats queue's messages) or from a scheduled close, so its `id` is a function of that source: redeliveries
 * and retries carry the same id, and the `webhook-id` header is that id (receivers deduplicate on it).
 */
export const WEBHOOK_EVENT_TYPES = [
  "event.logged",
  "points.awarded",
  "limit.reached",
  "streak.extended",
  "challenge.completed",
  "leaderboard.period_closed",
  "reward.adjusted",
  "points.redeemed",
  "points.expired",
  "tier.changed",
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** The type `POST /v1/admin/webhooks/{id}/test` sends; every endpoint receives it, whatever it subscribed to. */
export const WEBHOOK_TEST_TYPE = "webhook.test";

/** Events of these types are only sent to endpoints that name them (event.logged is loud: every log). */
export const WebhookEventTypeSchema = z.enum(WEBHOOK_EVENT_TYPES).openapi("WebhookEventType");

/**
 * The envelope every delivery's body is. `projectId` is the project's key. `data` depends on `type`; its
 * schemas are in this module (one per type) and in the OpenAPI document.
 */
export const WebhookEventSchema = z
  .object({
    id: z.string().min(1).max(200).describe("Stable across retries and redeliveries; the `webhook-id` header"),
    type: z.union([WebhookEventTypeSchema, z.literal(WEBHOOK_TEST_TYPE)]),
    createdAt: z.iso.datetime(),
    projectId: z.string().min(1),
    data: z.record(z.string(), z.unknown()),
  })
  .openapi("WebhookEvent");
export type WebhookEvent = z.infer<typeof WebhookEventSchema>;

/**
 * What the stats consumer sends to the webhooks queue: the events its batch emitted for projects that have
 * an endpoint subscribed to their type (one message per consumer batch, split only past the queue's size cap).
 */
export const WebhookFanoutMessageSchema = z.object({
  kind: z.literal("webhook_events"),
  events: z.array(WebhookEventSchema).min(1),
});
export type WebhookFanoutMessage = z.infer<typeof WebhookFanoutMessageSchema>;

// ---------------------------------------------------------------------------------------------------------
// The `data` of each type. Every event about a user carries `userId` and `sequence`.

const SEQUENCE_RULE =
  "The user's change number: each log, reward adjustment, redemption, reversal, expiry and tier change the user's " +
  "object applies takes the next one (1, 2, …), so a receiver orders what it gets for one user by it. The events " +
  "of one log share it; within one sequence their order is the order of the list of types (event.logged, " +
  "points.awarded, limit.reached, streak.extended, challenge.completed, leaderboard.period_closed, reward.adjusted, " +
  "points.redeemed, points.expired, tier.changed), several of one type in the order of their balanceAfter (the " +
  "log's points before its challenge bonuses). null only for an event queued before sequences were carried.";

const userFields = {
  userId: z.string().describe("The user the event is about (the project's own user id)"),
  sequence: z.number().int().nonnegative().nullable().describe(SEQUENCE_RULE),
};

const ledgerRefs = {
  eventUid: z.string().describe("The ledger entry's unique id (what reward.adjusted names)"),
  loyaltyEventId: z
    .number()
    .int()
    .nullable()
    .describe("The ledger entry's id (GET /v1/loyalty-events/{id}); null for an entry queued before ids were assigned by the user's object"),
};

export const EventLoggedWebhookDataSchema = z
  .object({
    ...userFields,
    ...ledgerRefs,
    eventId: z.string().describe("The event definition's id"),
    points: z.number().int().describe("Points the log added to the balance (0 when a condition failed or the limit was reached)"),
    balanceAfter: z.number().int().describe("The user's points after this log (before any challenge bonus it triggered)"),
    conditionReached: z.boolean(),
    limitReached: z.boolean(),
    rewardType: z.enum(REWARD_TYPES),
    rewardAmount: z.number().describe("Points, or money rounded to 2 decimals for PERCENTAGE and FLAT_AMOUNT"),
    rewardCurrency: z.string().nullable(),
    occurredAt: z.iso.datetime().describe("When the event happened (a backfilled timestamp included)"),
    metadata: z.record(z.string(), z.unknown()).describe("The log's metadata, as logged"),
  })
  .openapi("EventLoggedWebhookData");

export const PointsAwardedWebhookDataSchema = z
  .object({
    ...userFields,
    ...ledgerRefs,
    source: z.enum(["event", "challenge"]).describe("A log of an event, or the bonus of a completed challenge"),
    eventId: z.string().describe("The event definition's id, or `challenge:<challengeId>` for a bonus"),
    challengeId: z.string().nullable().describe("The completed challenge (source challenge), else null"),
    points: z.number().int().positive(),
    balanceAfter: z.number().int().describe("The user's points after these"),
  })
  .openapi("PointsAwardedWebhookData");

export const LimitReachedWebhookDataSchema = z
  .object({
    ...userFields,
    ...ledgerRefs,
    eventId: z.string().describe("The event definition whose limit the log met: it awarded nothing"),
    limit: z.number().int().nullable().describe("Rewarded logs allowed per limit period"),
    limitPeriod: z.string().nullable().describe("lifetime, day, week or month"),
    periodKey: z.string().nullable().describe("The limit period the log fell in (e.g. 2026-05-04 for a day)"),
    occurredAt: z.iso.datetime(),
  })
  .openapi("LimitReachedWebhookData");

export const StreakExtendedWebhookDataSchema = z
  .object({
    ...userFields,
    streakId: z.string(),
    current: z.number().int().positive().describe("The streak's current run after the log (it grew)"),
    longest: z.number().int().positive(),
    eventUid: z.string().describe("The log that extended it"),
  })
  .openapi("StreakExtendedWebhookData");

export const ChallengeCompletedWebhookDataSchema = z
  .object({
    ...userFields,
    ...ledgerRefs,
    challengeId: z.string(),
    periodStart: z.iso.date().nullable().describe("The first day of the challenge period completed; null for a challenge without periods"),
    bonusPoints: z.number().int().nonnegative().describe("Added to the balance (the bonus' own ledger entry: eventUid)"),
    balanceAfter: z.number().int(),
    triggeredBy: z.string().nullable().describe("The eventUid of the log that completed it"),
  })
  .openapi("ChallengeCompletedWebhookData");

export const LeaderboardPeriodClosedWebhookDataSchema = z
  .object({
    leaderboardId: z.string(),
    calendar: z.object({ period: z.enum(["day", "week", "month"]), timezone: z.string() }).describe("How the board cuts its periods"),
    period: z.number().int().describe("The period's number in its calendar (what the standings key it by)"),
    periodStart: z.iso.date().nullable().describe("The period's first local day"),
    periodEnd: z.iso.date().nullable().describe("The period's last local day"),
    closedAt: z.iso.datetime().describe("When the standings became final (a grace period after the end)"),
    participants: z.number().int().nonnegative(),
    top: z
      .array(z.object({ rank: z.number().int().positive(), userId: z.string(), score: z.number().int() }))
      .max(10)
      .describe("The final top 10 in rank order (competition ranks: equal scores share one)"),
  })
  .openapi("LeaderboardPeriodClosedWebhookData");

export const RewardAdjustedWebhookDataSchema = z
  .object({
    ...userFields,
    eventUid: z.string().describe("The adjusted ledger entry (event.logged's eventUid)"),
    adjustmentUid: z.string(),
    previousAmount: z.number(),
    newAmount: z.number(),
    pointsDelta: z.number().int().describe("How the balance moved (0 for monetary rewards)"),
    reason: z.string(),
    adjustedAt: z.iso.datetime(),
    balanceAfter: z.number().int().nullable().describe("The user's balance after the adjustment (null for adjustments queued before it was carried)"),
  })
  .openapi("RewardAdjustedWebhookData");

export const PointsRedeemedWebhookDataSchema = z
  .object({
    ...userFields,
    redemptionId: z.string().describe("The redemption (POST /v1/users/{userId}/redemptions); its reference is in the points history"),
    points: z.number().int().positive().describe("Points taken from the balance"),
    balanceAfter: z.number().int(),
    reason: z.string().nullable().describe("The redemption's reason"),
    redeemedAt: z.iso.datetime(),
  })
  .openapi("PointsRedeemedWebhookData");

export const PointsExpiredWebhookDataSchema = z
  .object({
    ...userFields,
    points: z.number().int().positive().describe("Points that expired at once (the remainders of the lots due then)"),
    balanceAfter: z.number().int(),
    expiredAt: z.iso.datetime().describe("When they expired: the lots' expiry date"),
  })
  .openapi("PointsExpiredWebhookData");

export const TierChangedWebhookDataSchema = z
  .object({
    ...userFields,
    from: z.string().nullable().describe("The tier before (null: none)"),
    to: z.string().nullable().describe("The tier after (null: none)"),
    cause: z.string().describe("earned (points earned lifted the member), window_ended (the tier window ended), ladder_changed"),
    changedAt: z.iso.datetime(),
  })
  .openapi("TierChangedWebhookData");

/** Each type's `data`, in the order of WEBHOOK_EVENT_TYPES. */
export const WEBHOOK_DATA_SCHEMAS = {
  "event.logged": EventLoggedWebhookDataSchema,
  "points.awarded": PointsAwardedWebhookDataSchema,
  "limit.reached": LimitReachedWebhookDataSchema,
  "streak.extended": StreakExtendedWebhookDataSchema,
  "challenge.completed": ChallengeCompletedWebhookDataSchema,
  "leaderboard.period_closed": LeaderboardPeriodClosedWebhookDataSchema,
  "reward.adjusted": RewardAdjustedWebhookDataSchema,
  "points.redeemed": PointsRedeemedWebhookDataSchema,
  "points.expired": PointsExpiredWebhookDataSchema,
  "tier.changed": TierChangedWebhookDataSchema,
} as const satisfies Record<WebhookEventType, z.ZodType>;
export type WebhookData<T extends WebhookEventType> = z.infer<(typeof WEBHOOK_DATA_SCHEMAS)[T]>;

// ---------------------------------------------------------------------------------------------------------
// Derivation: which events a source emits. Ids are functions of the source, so a redelivery emits the same ids.

const MAX_ID_LENGTH = 200;

/** 64 bits of a string, synchronously (two FNV-1a passes with different offsets), as hex. */
function hash64(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15);
  }
  return (a >>> 0).toString(16).padStart(8, "0") + (b >>> 0).toString(16).padStart(8, "0");
}

/** An event id from its source's parts; one longer than 200 characters keeps its start and a hash of the whole. */
export function webhookEventId(...parts: ReadonlyArray<string | number>): string {
  const id = parts.join("_");
  return id.length <= MAX_ID_LENGTH ? id : `${id.slice(0, MAX_ID_LENGTH - 17)}~${hash64(id)}`;
}

const envelope = <T extends WebhookEventType>(type: T, id: string, projectId: string, createdAt: string, data: WebhookData<T>): WebhookEvent => ({
  id,
  type,
  createdAt,
  projectId,
  data,
});

/**
 * Whether a streak state a log reported grew the streak's current run. `previous` is what the user's object
 * reported before (null: never); a run that had broken by the time of this log (`aliveUntil` passed) counted
 * 0. A state without `previous` (queued before it was carried) was extended by the log: it is taken to grow.
 */
export function streakGrew(state: StreakState, atMs: number): boolean {
  if (state.previous === undefined) return state.current > 0;
  const before = state.previous === null || atMs >= state.previous.aliveUntil ? 0 : state.previous.current;
  return state.current > before;
}

function limitOf(message: LoggedEventMessage): { limit: number | null; limitPeriod: string | null; periodKey: string | null } {
  const reason = message.reward.reasons.find((r) => r.code === "LIMIT_REACHED");
  const text = (value: unknown) => (typeof value === "string" ? value : null);
  return {
    limit: typeof reason?.limit === "number" && Number.isInteger(reason.limit) ? reason.limit : null,
    limitPeriod: text(reason?.limitPeriod),
    periodKey: text(reason?.periodKey),
  };
}

/** The events of one logged event (a log, or a challenge completion's entry), in the order of the types. */
function loggedEventEvents(message: LoggedEventMessage, subscribed: ReadonlySet<WebhookEventType>): WebhookEvent[] {
  const { eventUid, projectKey, userId } = message;
  const ids = { eventUid, loyaltyEventId: message.ledgerId ?? null };
  // A completion's entry carries the completing log's sequence (`seq`); a log its own updates'.
  const sequence = message.updates?.seq ?? message.seq ?? null;
  const at = message.recordedAt;
  const id = (type: WebhookEventType, ...more: string[]) => webhookEventId("evt", eventUid, type, ...more);
  const events: WebhookEvent[] = [];
  const want = (type: WebhookEventType) => subscribed.has(type);

  if (message.eventId.startsWith(COMPLETION_EVENT_PREFIX)) {
    const challengeId = message.eventId.slice(COMPLETION_EVENT_PREFIX.length);
    if (want("points.awarded") && message.points > 0) {
      const data = {
        userId,
        sequence,
        ...ids,
        source: "challenge" as const,
        eventId: message.eventId,
        challengeId,
        points: message.points,
        balanceAfter: message.balanceAfter,
      };
      events.push(envelope("points.awarded", id("points.awarded"), projectKey, at, data));
    }
    if (want("challenge.completed")) {
      const { periodStart, triggeredBy } = message.metadata;
      events.push(
        envelope("challenge.completed", id("challenge.completed"), projectKey, at, {
          userId,
          sequence,
          ...ids,
          challengeId,
          periodStart: typeof periodStart === "string" ? periodStart : null,
          bonusPoints: message.points,
          balanceAfter: message.balanceAfter,
          triggeredBy: typeof triggeredBy === "string" ? triggeredBy : null,
        }),
      );
    }
    return events;
  }

  if (want("event.logged")) {
    events.push(
      envelope("event.logged", id("event.logged"), projectKey, at, {
        userId,
        sequence,
        ...ids,
        eventId: message.eventId,
        points: message.points,
        balanceAfter: message.balanceAfter,
        conditionReached: message.conditionReached,
        limitReached: message.limitReached,
        rewardType: message.rewardType,
        rewardAmount: message.rewardAmount,
        rewardCurrency: message.rewardCurrency,
        occurredAt: message.occurredAt,
        metadata: message.metadata,
      }),
    );
  }
  if (want("points.awarded") && message.points > 0) {
    const data = {
      userId,
      sequence,
      ...ids,
      source: "event" as const,
      eventId: message.eventId,
      challengeId: null,
      points: message.points,
      balanceAfter: message.balanceAfter,
    };
    events.push(envelope("points.awarded", id("points.awarded"), projectKey, at, data));
  }
  if (want("limit.reached") && message.limitReached) {
    events.push(
      envelope("limit.reached", id("limit.reached"), projectKey, at, {
        userId,
        sequence,
        ...ids,
        eventId: message.eventId,
        ...limitOf(message),
        occurredAt: message.occurredAt,
      }),
    );
  }
  if (want("streak.extended")) {
    const atMs = Date.parse(message.recordedAt);
    for (const state of message.updates?.streaks ?? []) {
      if (!streakGrew(state, atMs)) continue;
      const data = { userId, sequence, streakId: state.streakId, current: state.current, longest: state.longest, eventUid };
      events.push(envelope("streak.extended", id("streak.extended", state.streakId), projectKey, at, data));
    }
  }
  return events;
}

function adjustmentEvents(message: AdjustmentMessage, subscribed: ReadonlySet<WebhookEventType>): WebhookEvent[] {
  if (!subscribed.has("reward.adjusted")) return [];
  const { adjustmentUid, projectKey, userId, seq, eventUid, previousAmount, newAmount, pointsDelta, reason, adjustedAt } = message;
  const data = {
    userId,
    sequence: seq,
    eventUid,
    adjustmentUid,
    previousAmount,
    newAmount,
    pointsDelta,
    reason,
    adjustedAt,
    balanceAfter: message.balanceAfter ?? null,
  };
  return [envelope("reward.adjusted", webhookEventId("adj", adjustmentUid, "reward.adjusted"), projectKey, adjustedAt, data)];
}

/**
 * The event of a points change, ids `pc_<changeUid>_<type>`: a redemption emits points.redeemed, an expiry
 * points.expired, a tier change tier.changed. A reversal emits none (the three types the lifecycle defines; it
 * shows in the points history and the points stats, and the next event's balanceAfter has its points).
 */
function pointsChangeEvents(message: PointsChangeMessage, subscribed: ReadonlySet<WebhookEventType>): WebhookEvent[] {
  const { changeUid, projectKey, userId, seq: sequence, points, balanceAfter, at } = message;
  const id = (type: WebhookEventType) => webhookEventId("pc", changeUid, type);
  switch (message.change) {
    case "redeem": {
      // A redemption's change always names it (the object sets it); one that does not cannot be described.
      if (!subscribed.has("points.redeemed") || points <= 0 || message.redemptionId === null) return [];
      const data = { userId, sequence, redemptionId: message.redemptionId, points, balanceAfter, reason: message.reason, redeemedAt: at };
      return [envelope("points.redeemed", id("points.redeemed"), projectKey, at, data)];
    }
    case "expire":
      if (!subscribed.has("points.expired") || points <= 0) return [];
      return [envelope("points.expired", id("points.expired"), projectKey, at, { userId, sequence, points, balanceAfter, expiredAt: at })];
    case "tier": {
      if (!subscribed.has("tier.changed") || message.tier === null) return [];
      const { from, to, cause } = message.tier;
      return [envelope("tier.changed", id("tier.changed"), projectKey, at, { userId, sequence, from, to, cause, changedAt: at })];
    }
    case "reverse":
      return [];
  }
}

/**
 * The webhook events a stats-queue message emits, of the `subscribed` types only, in the order of the types.
 * A log that completes a challenge reaches the queue as two messages, the log's and the completion entry's
 * (`challenge:<id>`): the first emits event.logged, points.awarded, limit.reached and streak.extended, the
 * second points.awarded (the bonus) and challenge.completed, under the same sequence.
 */
export function webhookEventsOf(message: QueueMessage, subscribed: ReadonlySet<WebhookEventType>): WebhookEvent[] {
  if (subscribed.size === 0) return [];
  if (isPointsChange(message)) return pointsChangeEvents(message, subscribed);
  return isAdjustment(message) ? adjustmentEvents(message, subscribed) : loggedEventEvents(message, subscribed);
}

/** A closed board period as the closing job found it, with its top entries ranked. */
export type ClosedBoardPeriod = {
  projectKey: string;
  leaderboardId: string;
  /** The standings' calendar key, `week|Europe/Berlin`. */
  calendar: string;
  period: number;
  participants: number;
  closedAt: number;
  top: ReadonlyArray<{ rank: number; userId: string; score: number }>;
};

/** The leaderboard.period_closed event of a closed board period (its id names the period: one per period). */
export function periodClosedEvent(closed: ClosedBoardPeriod): WebhookEvent {
  const bar = closed.calendar.indexOf("|");
  const kind = closed.calendar.slice(0, bar) as CalendarPeriod;
  const timezone = closed.calendar.slice(bar + 1);
  // Only periods that end are closed (never a board of period all); the fallbacks are for a malformed key.
  const cut = kind === "day" || kind === "week" || kind === "month" ? kind : null;
  const closedAt = new Date(closed.closedAt).toISOString();
  return envelope(
    "leaderboard.period_closed",
    webhookEventId("lb", closed.projectKey, closed.leaderboardId, closed.calendar, closed.period),
    closed.projectKey,
    closedAt,
    {
      leaderboardId: closed.leaderboardId,
      calendar: { period: cut ?? "day", timezone },
      period: closed.period,
      periodStart: cut ? dayToDate(firstDayOfPeriod(closed.period, cut)) : null,
      periodEnd: cut ? dayToDate(lastDayOfPeriod(closed.period, cut)!) : null,
      closedAt,
      participants: closed.participants,
      top: closed.top.slice(0, 10).map(({ rank, userId, score }) => ({ rank, userId, score })),
    },
  );
}
