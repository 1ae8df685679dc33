import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { LoggedEventMessage } from "../src/domain/logged-event";
import { EVENTS_QUEUE, handleQueueBatch } from "../src/queue/consumer";

/** A queue message as a user's object sends it (5 points for alice); tests override what they need. */
export function loggedEvent(projectKey: string, overrides: Partial<LoggedEventMessage> = {}): LoggedEventMessage {
  return {
    eventUid: crypto.randomUUID(),
    projectKey,
    programId: 1,
    userId: "alice",
    accountId: 1,
    eventId: "purchase_completed",
    definitionVersion: 1,
    eventType: "STANDARD",
    loyaltyEventType: null,
    metadata: {},
    occurredAt: "2025-08-02T10:15:00.000Z",
    recordedAt: "2025-08-02T10:15:00.000Z",
    points: 5,
    balanceBefore: 0,
    balanceAfter: 5,
    userGroupId: "default",
    conditionReached: true,
    limitReached: false,
    reward: { rate: 5, value: null, uncappedPoints: 5, maximumReward: null, reasons: [] },
    idempotencyKey: null,
    ruleId: 1,
    rewardType: "LOYALTY_POINTS",
    rewardAmount: overrides.points ?? 5,
    rewardCurrency: null,
    customerMessage: null,
    ...overrides,
  };
}

/** Runs the consumer over one batch of `bodies` and returns what it acked and retried. */
export async function deliver(bodies: unknown[], options: { environment?: Env; queue?: string; attempts?: number; ids?: string[] } = {}) {
  const messages = bodies.map((body, i) => ({
    id: options.ids?.[i] ?? `m-${i}-${crypto.randomUUID()}`,
    timestamp: new Date(),
    attempts: options.attempts ?? 1,
    body,
  }));
  const batch = createMessageBatch(options.queue ?? EVENTS_QUEUE, messages);
  const ctx = createExecutionContext();
  await handleQueueBatch(batch, options.environment ?? env);
  return { ...(await getQueueResult(batch, ctx)), messages };
}
