import { z } from "@hono/zod-openapi";
import type { EventDefinition, VersionedDefinition } from "./definition";
import { EVENT_TYPES, REWARD_TYPES } from "./definition-vocabulary";
import { ReasonSchema, type RewardDecision } from "./rewards";
import type { UserProfile } from "./user";

/**
 * One logged event as the user's Durable Object commits it to its outbox and sends it to the stats queue:
 * everything the event log, the stats and the loyalty ledger need. `eventUid` makes every consumer idempotent.
 * This schema is the one list of a logged event's fields: the event log's columns are derived from it
 * (src/db/event-log.ts), so a new field means this schema, a column in src/db/schema.ts and a migration.
 */
export const LoggedEventSchema = z.object({
  /**
   * The loyalty event id (LEDGER_ID_SPAN in src/domain/ledger.ts), assigned by the user's object with the
   * user's ledger entry. Absent in messages from before; the consumer then numbers them as D1 did.
   */
  ledgerId: z.number().int().positive().optional(),
  eventUid: z.string().min(1),
  projectKey: z.string().min(1),
  programId: z.number().int(),
  userId: z.string().min(1),
  accountId: z.number().int(),
  eventId: z.string().min(1),
  definitionVersion: z.number().int(),
  eventType: z.enum(EVENT_TYPES),
  loyaltyEventType: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  occurredAt: z.iso.datetime(),
  recordedAt: z.iso.datetime(),
  points: z.number().int(),
  balanceBefore: z.number().int(),
  balanceAfter: z.number().int(),
  userGroupId: z.string(),
  conditionReached: z.boolean(),
  limitReached: z.boolean(),
  reward: z.object({
    rate: z.number(),
    value: z.number().nullable(),
    uncappedPoints: z.number(),
    maximumReward: z.number().nullable(),
    reasons: z.array(z.record(z.string(), z.unknown())),
  }),
  idempotencyKey: z.string().nullable(),
  // For the loyalty ledger, as logged: the definition's numeric id, the reward in its type, the filled message.
  ruleId: z.number().int().nullable(),
  rewardType: z.enum(REWARD_TYPES),
  rewardAmount: z.number(),
  rewardCurrency: z.string().nullable(),
  customerMessage: z.string().nullable(),
});
export type LoggedEvent = z.infer<typeof LoggedEventSchema>;

/** Events queued before the ledger fields existed: their reward was their points. */
const withLedgerFields = (body: unknown): unknown =>
  body !== null && typeof body === "object" && !("rewardType" in body)
    ? { ruleId: null, rewardType: "LOYALTY_POINTS", rewardAmount: (body as { points?: unknown }).points, rewardCurrency: null, customerMessage: null, ...body }
    : body;

/** A user's streak after a log, as the consumer keeps it for analytics (`aliveUntil`: epoch ms it breaks at). */
export const StreakStateSchema = z.object({
  streakId: z.string(),
  current: z.number().int(),
  longest: z.number().int(),
  aliveUntil: z.number().int(),
  /**
   * The state the analytics hold this user in before this one (null: not a participant yet), as the user's
   * object reported it last: the consumer moves the user from the old buckets to the new ones by additions
   * alone. Absent in messages from before it existed; the consumer then asks the user's object for it.
   */
  previous: z.object({ current: z.number().int(), longest: z.number().int(), aliveUntil: z.number().int() }).nullable().optional(),
});
export type StreakState = z.infer<typeof StreakStateSchema>;

/**
 * What a logged event changes in the unique-user counts, decided by the user's object (which applies its
 * user's events one at a time and keeps the user's active days): whether it is the user's first event on its
 * UTC day and in its month, overall and for its event id, and the user's last active day before it (null:
 * none), overall and for its event id. The consumer only adds: a day's and a month's users by the flags, and
 * in the histogram of users per last active day it moves the user from the previous day to this event's day
 * when that is later. Absent in messages from before it existed; the consumer then asks the user's object.
 */
export const ActivitySchema = z.object({
  firstOfDay: z.boolean(),
  firstOfMonth: z.boolean(),
  firstOfEventDay: z.boolean(),
  firstOfEventMonth: z.boolean(),
  previousLastDay: z.iso.date().nullable(),
  previousEventLastDay: z.iso.date().nullable(),
});
export type Activity = z.infer<typeof ActivitySchema>;

/**
 * What a queue message carries besides the event-log row: the user's state that changed with the log,
 * numbered by the user's log sequence so consumers keep only the newest.
 */
/** A user's score on one leaderboard period after a log; `reachedAt` (epoch ms) breaks ties. */
export const StandingSchema = z.object({
  leaderboardId: z.string(),
  calendar: z.string(),
  period: z.number().int(),
  score: z.number().int(),
  reachedAt: z.number().int(),
});
export type Standing = z.infer<typeof StandingSchema>;

export const UserUpdatesSchema = z.object({
  seq: z.number().int().nonnegative(),
  streaks: z.array(StreakStateSchema).default([]),
  standings: z.array(StandingSchema).default([]),
});
export type UserUpdates = z.infer<typeof UserUpdatesSchema>;

/** A queue message: a logged event (the event-log row) and, from the user's object, the updates it caused. */
export const LoggedEventMessageSchema = z.preprocess(
  withLedgerFields,
  LoggedEventSchema.extend({
    updates: UserUpdatesSchema.optional(),
    activity: ActivitySchema.optional(),
    /** A challenge completion's entry (no `updates` of its own): the sequence number of the log that completed it. */
    seq: z.number().int().nonnegative().optional(),
  }),
);
export type LoggedEventMessage = z.infer<typeof LoggedEventMessageSchema>;

export const EVENT_LOGGED_MESSAGE = "Event erfolgreich geloggt";
export const LIMIT_REACHED_MESSAGE = "Event Limit erreicht";

/** The `data` of the spec's 200 answer to POST /v1/event, plus `balance` and `reasons`. */
export const EventLoggedDataSchema = z.object({
  userId: z.string(),
  eventId: z.string(),
  points: z.number().int(),
  type: z.enum(EVENT_TYPES),
  title: z.string(),
  limit: z.number().int().nullable(),
  maximumReward: z.number().int().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  conditionReached: z.boolean(),
  limitReached: z.boolean(),
  userGroupId: z.string(),
  balance: z.number().int().describe("The user's points after this log"),
  reasons: z.array(ReasonSchema).describe("Why points were not (fully) awarded"),
  streaks: z
    .array(
      z.object({
        streakId: z.string(),
        current: z.number().int(),
        longest: z.number().int(),
        extended: z.boolean().describe("This log added a period that was not there before"),
      }),
    )
    .describe("The active streaks that list this event, after this log"),
  challenges: z
    .array(
      z.object({
        challengeId: z.string(),
        progress: z.number().describe("Progress in the period of this log"),
        target: z.number(),
        completed: z.boolean(),
        completedNow: z.boolean().describe("This log completed it: rewardPoints were added to balance"),
      }),
    )
    .describe("The active challenges that list this event, after this log"),
  reward: z
    .object({
      rewardType: z.enum(REWARD_TYPES),
      rewardAmount: z.number().describe("Points, or money rounded to 2 decimals for PERCENTAGE and FLAT_AMOUNT"),
      rewardCurrency: z.string().nullable(),
      customerMessage: z.string().nullable(),
    })
    .describe("What the log awarded, as the ledger shows it"),
});
export type EventLoggedData = z.infer<typeof EventLoggedDataSchema>;

export const EventLoggedEnvelopeSchema = z
  .object({
    statusCode: z.literal(200),
    message: z.enum([EVENT_LOGGED_MESSAGE, LIMIT_REACHED_MESSAGE]),
    data: EventLoggedDataSchema,
  })
  .openapi("EventLogged");
export type EventLoggedEnvelope = z.infer<typeof EventLoggedEnvelopeSchema>;

export type StreakResult = EventLoggedData["streaks"][number];
export type ChallengeResult = EventLoggedData["challenges"][number];

/** The spec's 200 envelope for POST /v1/event, plus `balance`, `reasons` and what the log moved (`streaks`). */
export function eventLoggedEnvelope(
  definition: EventDefinition,
  event: LoggedEvent,
  decision: RewardDecision,
  balance: number,
  moved: { streaks: StreakResult[]; challenges: ChallengeResult[] },
): EventLoggedEnvelope {
  const { userId, metadata } = event;
  return {
    statusCode: 200,
    message: decision.limitReached ? LIMIT_REACHED_MESSAGE : EVENT_LOGGED_MESSAGE,
    data: {
      userId,
      eventId: definition.eventId,
      points: decision.points,
      type: definition.type,
      title: definition.title,
      limit: definition.limit ?? null,
      maximumReward: definition.maximumReward ?? null,
      metadata,
      conditionReached: decision.conditionReached,
      limitReached: decision.limitReached,
      userGroupId: decision.userGroupId,
      balance,
      reasons: decision.reasons,
      streaks: moved.streaks,
      challenges: moved.challenges,
      reward: {
        rewardType: event.rewardType,
        rewardAmount: event.rewardAmount,
        rewardCurrency: event.rewardCurrency,
        customerMessage: event.customerMessage,
      },
    },
  };
}

export type LoggedEventInput = {
  eventUid: string;
  profile: UserProfile;
  definition: VersionedDefinition;
  decision: RewardDecision;
  metadata: Record<string, unknown>;
  occurredAt: string;
  recordedAt: string;
  idempotencyKey: string | null;
};

/** Whose entry it is: the user's project, program, id and account. */
const ownerOf = ({ projectKey, programId, userId, accountId }: UserProfile) => ({ projectKey, programId, userId, accountId });

/** The event-log entry for one decided log; `profile.balance` is the balance before it. */
export function buildLoggedEvent(input: LoggedEventInput): LoggedEvent {
  const { profile, definition, decision } = input;
  return {
    eventUid: input.eventUid,
    ...ownerOf(profile),
    eventId: definition.eventId,
    definitionVersion: definition.version,
    eventType: definition.type,
    loyaltyEventType: definition.loyaltyEventType ?? null,
    metadata: input.metadata,
    occurredAt: input.occurredAt,
    recordedAt: input.recordedAt,
    points: decision.points,
    balanceBefore: profile.balance,
    balanceAfter: profile.balance + decision.points,
    userGroupId: decision.userGroupId,
    conditionReached: decision.conditionReached,
    limitReached: decision.limitReached,
    reward: { ...decision.reward, reasons: decision.reasons },
    idempotencyKey: input.idempotencyKey,
    ruleId: definition.ruleId,
    rewardType: decision.rewardType,
    rewardAmount: decision.rewardAmount,
    rewardCurrency: rewardCurrencyOf(definition, input.metadata),
    customerMessage:
      definition.customerMessage === undefined
        ? null
        : fillCustomerMessage(definition.customerMessage, {
            points: decision.rewardAmount,
            title: definition.title,
            balance: profile.balance + decision.points,
          }),
  };
}

/**
 * The currency of a reward: FLAT_AMOUNT pays in the definition's `rewardCurrency`; PERCENTAGE takes a share of
 * the transaction in `metadata.currency` (else the definition's); points carry `metadata.currency`, if any.
 */
export function rewardCurrencyOf(definition: EventDefinition, metadata: Record<string, unknown>): string | null {
  const fromMetadata = typeof metadata.currency === "string" && metadata.currency.length <= 16 ? metadata.currency : null;
  switch (definition.rewardType ?? "LOYALTY_POINTS") {
    case "FLAT_AMOUNT":
      return definition.rewardCurrency ?? null;
    case "PERCENTAGE":
      return fromMetadata ?? definition.rewardCurrency ?? null;
    case "LOYALTY_POINTS":
      return fromMetadata;
  }
}

/** Fills `{points}` (the reward amount), `{title}` and `{balance}` (after the log) into a definition's message. */
export const fillCustomerMessage = (template: string, values: { points: number; title: string; balance: number }): string =>
  template.replace(/\{(points|title|balance)\}/g, (_, name: "points" | "title" | "balance") => String(values[name]));

/** The project a queued body (or a bundle's first item) names, if any: a dead letter is visible to its admins. */
export function projectKeyOf(body: unknown): string | null {
  if (body === null || typeof body !== "object") return null;
  const { projectKey, items } = body as { projectKey?: unknown; items?: unknown };
  if (typeof projectKey === "string") return projectKey;
  return Array.isArray(items) ? projectKeyOf(items[0]) : null;
}

/**
 * The event-log entry of points the programme grants outside a log's rules (a challenge's bonus, an imported
 * opening balance): a fixed number of points for the default usergroup, conditions held, no limit, no idempotency
 * key; `profile.balance` is the balance before it.
 */
export function grantedPointsEvent(input: {
  eventUid: string;
  profile: UserProfile;
  eventId: string;
  definitionVersion: number;
  loyaltyEventType: LoggedEvent["loyaltyEventType"];
  metadata: Record<string, unknown>;
  occurredAt: string;
  recordedAt: string;
  points: number;
}): LoggedEvent {
  const { profile, points } = input;
  return {
    eventUid: input.eventUid,
    ...ownerOf(profile),
    eventId: input.eventId,
    definitionVersion: input.definitionVersion,
    eventType: "STANDARD",
    loyaltyEventType: input.loyaltyEventType,
    metadata: input.metadata,
    occurredAt: input.occurredAt,
    recordedAt: input.recordedAt,
    points,
    balanceBefore: profile.balance,
    balanceAfter: profile.balance + points,
    userGroupId: "default",
    conditionReached: true,
    limitReached: false,
    reward: { rate: points, value: null, uncappedPoints: points, maximumReward: null, reasons: [] },
    idempotencyKey: null,
    ruleId: null,
    rewardType: "LOYALTY_POINTS",
    rewardAmount: points,
    rewardCurrency: null,
    customerMessage: null,
  };
}
