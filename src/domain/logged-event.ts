import { z } from "zod";
import type { EventDefinition } from "./definition";
import type { Reason, RewardDecision } from "./rewards";

/**
 * One logged event as the user's Durable Object commits it to its outbox and sends it to the stats queue:
 * everything the event log, the stats and the loyalty ledger need. `eventUid` makes every consumer idempotent.
 */
export const LoggedEventSchema = z.object({
  eventUid: z.string().min(1),
  projectKey: z.string().min(1),
  programId: z.number().int(),
  userId: z.string().min(1),
  accountId: z.number().int(),
  eventId: z.string().min(1),
  definitionVersion: z.number().int(),
  eventType: z.enum(["STANDARD", "TRANSACTION"]),
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
});
export type LoggedEvent = z.infer<typeof LoggedEventSchema>;

export const EVENT_LOGGED_MESSAGE = "Event erfolgreich geloggt";
export const LIMIT_REACHED_MESSAGE = "Event Limit erreicht";

export type EventLoggedData = {
  userId: string;
  eventId: string;
  points: number;
  type: EventDefinition["type"];
  title: string;
  limit: number | null;
  maximumReward: number | null;
  metadata: Record<string, unknown>;
  conditionReached: boolean;
  limitReached: boolean;
  userGroupId: string;
  balance: number;
  reasons: Reason[];
};

export type EventLoggedEnvelope = {
  statusCode: 200;
  message: typeof EVENT_LOGGED_MESSAGE | typeof LIMIT_REACHED_MESSAGE;
  data: EventLoggedData;
};

/** The spec's 200 envelope for POST /v1/event, plus `balance` and `reasons`. */
export function eventLoggedEnvelope(
  definition: EventDefinition,
  userId: string,
  metadata: Record<string, unknown>,
  decision: RewardDecision,
  balance: number,
): EventLoggedEnvelope {
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
    },
  };
}
