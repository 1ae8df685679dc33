import { z } from "@hono/zod-openapi";
import { getDb } from "../db/client";
import { claimDeliveries, insertAndClaimDeliveries, type ClaimedDelivery } from "../db/webhooks";
import { WebhookFanoutMessageSchema, type WebhookFanoutMessage } from "../domain/webhook-events";
import { ATTEMPT_LEASE_MS, attemptDeliveries, sendDeliveryMessages, sendWithFetch, type Send } from "../services/webhook-delivery";

export const WEBHOOKS_QUEUE = "loyalty-webhooks";

/**
 * At most this many attempts per consumer batch (each one is a subrequest, and at most MAX_CONCURRENT_ATTEMPTS
 * run at once); a fan-out's deliveries beyond it are queued as their own delivery messages.
 */
export const MAX_ATTEMPTS_PER_BATCH = 100;
/** A retry message may arrive a little before its delivery is due; earlier than this, it is stale (another attempt superseded it). */
const EARLY_ARRIVAL_MS = 30_000;
/** When D1 failed for a message: retried after the attempts' lease has run out, growing. */
const consumerRetryDelaySeconds = (attempts: number) => Math.min(3_600, (ATTEMPT_LEASE_MS / 1000) * 2 ** Math.min(6, Math.max(0, attempts - 1)));

const WebhookDeliveryMessageSchema = z.object({ kind: z.literal("webhook_delivery"), deliveryId: z.string().min(1).max(100) });

type Parsed = { kind: "fanout"; message: Message<unknown>; body: WebhookFanoutMessage } | { kind: "delivery"; message: Message<unknown>; deliveryId: string };

function parse(message: Message<unknown>): Parsed | null {
  const delivery = WebhookDeliveryMessageSchema.safeParse(message.body);
  if (delivery.success) return { kind: "delivery", message, deliveryId: delivery.data.deliveryId };
  const fanout = WebhookFanoutMessageSchema.safeParse(message.body);
  if (fanout.success) return { kind: "fanout", message, body: fanout.data };
  return null;
}

/**
 * The consumer of `loyalty-webhooks`. Two kinds of message:
 * - `{kind: "webhook_events", events}` (from the stats consumer): a delivery per event and enabled endpoint of its
 *   project subscribed to its type, inserted once whatever the redeliveries (unique per endpoint and event), and
 *   attempted now;
 * - `{kind: "webhook_delivery", deliveryId}` (a scheduled retry, or a delivery left for another batch): attempted
 *   when it is still pending and due.
 * A message D1 failed for is retried by the queue (its deliveries stay in D1; nothing is lost); a message that is
 * neither is logged and dropped (it can never be delivered). `send` is the outbound request (tests pass a receiver).
 */
export async function handleWebhooksBatch(batch: MessageBatch<unknown>, env: Env, send: Send = sendWithFetch): Promise<void> {
  const db = getDb(env.DB);
  const now = Date.now();
  const leaseUntil = now + ATTEMPT_LEASE_MS;
  const retry = (message: Message<unknown>) => message.retry({ delaySeconds: consumerRetryDelaySeconds(message.attempts) });

  const parsed: Parsed[] = [];
  for (const message of batch.messages) {
    const item = parse(message);
    if (item) parsed.push(item);
    else {
      console.error(`webhooks queue: message ${message.id} is neither a fan-out nor a delivery; dropped`);
      message.ack();
    }
  }

  /** What each message claimed for attempts now. */
  const claimedBy = new Map<Message<unknown>, ClaimedDelivery[]>();
  const failed = new Set<Message<unknown>>();
  let budget = MAX_ATTEMPTS_PER_BATCH;

  const deliveries = parsed.filter((item) => item.kind === "delivery");
  if (deliveries.length > 0) {
    try {
      const claimed = await claimDeliveries(
        db,
        deliveries.map((item) => item.deliveryId),
        { now, dueBy: now + EARLY_ARRIVAL_MS, leaseUntil },
      );
      const byId = new Map(claimed.map((delivery) => [delivery.id, delivery]));
      for (const item of deliveries) {
        const delivery = byId.get(item.deliveryId);
        // Several messages for one delivery (a sweep's and a late retry's) attempt it once.
        if (delivery) byId.delete(item.deliveryId);
        claimedBy.set(item.message, delivery ? [delivery] : []);
      }
      budget -= claimed.length;
    } catch (error) {
      console.error("webhooks queue: claiming deliveries failed; retrying their messages", error);
      for (const item of deliveries) failed.add(item.message);
    }
  }

  /** Deliveries of fan-outs beyond this batch's budget, queued as their own messages. */
  const overflowBy = new Map<Message<unknown>, string[]>();
  for (const item of parsed) {
    if (item.kind !== "fanout") continue;
    const events = item.body.events.map((event) => ({ id: event.id, type: event.type, projectKey: event.projectId, payload: JSON.stringify(event) }));
    try {
      const { claimed, overflow } = await insertAndClaimDeliveries(db, events, { now, leaseUntil, limit: Math.max(0, budget) });
      claimedBy.set(item.message, claimed);
      overflowBy.set(item.message, overflow);
      budget -= claimed.length;
    } catch (error) {
      console.error("webhooks queue: inserting deliveries failed; retrying the fan-out", error);
      failed.add(item.message);
    }
  }

  const claimed = [...claimedBy.values()].flat();
  try {
    await attemptDeliveries(env, claimed, send);
  } catch (error) {
    // The outcomes were not recorded: the deliveries are due again once their lease ends, and these messages come back then.
    console.error("webhooks queue: recording attempts failed; retrying their messages", error);
    for (const [message, own] of claimedBy) if (own.length > 0) failed.add(message);
  }

  for (const [message, overflow] of overflowBy) {
    if (failed.has(message) || overflow.length === 0) continue;
    try {
      await sendDeliveryMessages(
        env,
        overflow.map((deliveryId) => ({ deliveryId, delaySeconds: 0 })),
      );
    } catch (error) {
      // Its redelivery claims them (they are due); the sweep would too.
      console.error("webhooks queue: queueing deliveries beyond the batch's budget failed; retrying the fan-out", error);
      failed.add(message);
    }
  }

  for (const item of parsed) {
    if (failed.has(item.message)) retry(item.message);
    else item.message.ack();
  }
}
