import { chunkBySize, utf8Bytes } from "../domain/json";
import { MAX_QUEUE_MESSAGE_BYTES } from "../domain/limits";
import type { QueueMessage } from "../domain/queue-message";
import { webhookEventsOf, type WebhookEvent, type WebhookFanoutMessage } from "../domain/webhook-events";
import { subscribedTypes } from "./webhook-subscriptions";

/**
 * The hand-over from the stats consumer to the webhooks queue: what a batch's committed messages emit for
 * projects with subscribed endpoints, in one queue message per batch (more only past the size cap).
 */

/** A part's body stays below the queue's 128 KB per message (an event is at most ~35 KB: 32 KiB of metadata). */
const PART_BYTES = MAX_QUEUE_MESSAGE_BYTES;

/** A committed message and what it came in (the queue message to ack or retry). */
export type EmissionSource<S> = { source: S; body: QueueMessage };

/** Sends the parts of a hand-over (all or an error); a test may replace it to see what would be sent. */
export const webhookHandover = {
  send: async (queue: Queue, parts: readonly WebhookFanoutMessage[]): Promise<void> => {
    await Promise.all(parts.map((part) => queue.send(part, { contentType: "json" })));
  },
};

/** Events split into queue messages of at most PART_BYTES each, in order. */
export function fanoutMessages(events: readonly WebhookEvent[]): WebhookFanoutMessage[] {
  const sized = events.map((event) => ({ event, bytes: utf8Bytes(JSON.stringify(event)) + 1 }));
  return chunkBySize(sized, (item) => item.bytes, PART_BYTES).map((chunk) => ({ kind: "webhook_events", events: chunk.map((item) => item.event) }));
}

/** Hands events to the webhooks queue (nothing to send: no call); throws when the queue refuses. */
export async function sendWebhookEvents(env: Env, events: readonly WebhookEvent[]): Promise<void> {
  if (events.length > 0) await webhookHandover.send(env.WEBHOOKS_QUEUE, fanoutMessages(events));
}

/**
 * Hands the events of `sources` (messages whose ingest committed) to the webhooks queue and says which
 * sources' events were not handed over (with the error): their queue messages are to be retried, never acked.
 * A project without subscriptions costs its (cached) lookup and nothing else; a batch with nothing to emit
 * sends nothing. A redelivered message emits the same event ids again; deliveries deduplicate on them.
 */
export async function handOverWebhookEvents<S>(env: Env, sources: ReadonlyArray<EmissionSource<S>>): Promise<{ notHandedOver: Set<S>; error: unknown }> {
  const notHandedOver = new Set<S>();
  let error: unknown = null;
  const projects = [...new Set(sources.map(({ body }) => body.projectKey))];
  const lookups = await Promise.allSettled(projects.map((projectKey) => subscribedTypes(env, projectKey)));
  const subscriptions = new Map(projects.map((projectKey, i) => [projectKey, lookups[i]!]));

  const events: WebhookEvent[] = [];
  // A message twice in one batch (an at-least-once queue may do that) is handed over once.
  const ids = new Set<string>();
  const emitting = new Set<S>();
  for (const { source, body } of sources) {
    const lookup = subscriptions.get(body.projectKey)!;
    if (lookup.status === "rejected") {
      // Whether it emits anything is unknown: retried like a failed hand-over.
      notHandedOver.add(source);
      error = lookup.reason;
      continue;
    }
    const emitted = webhookEventsOf(body, lookup.value).filter((event) => !ids.has(event.id));
    if (emitted.length === 0) continue;
    for (const event of emitted) ids.add(event.id);
    events.push(...emitted);
    emitting.add(source);
  }
  try {
    await sendWebhookEvents(env, events);
  } catch (sendError) {
    console.error("webhook events not handed over; retrying their messages", sendError);
    for (const source of emitting) notHandedOver.add(source);
    error = sendError;
  }
  return { notHandedOver, error };
}
