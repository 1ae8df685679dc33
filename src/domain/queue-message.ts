import { AdjustmentMessageSchema, type AdjustmentMessage } from "./ledger";
import { LoggedEventMessageSchema, type LoggedEventMessage } from "./logged-event";

/** What the stats queue carries: logged events and reward adjustments, both from the users' objects. */
export type QueueMessage = LoggedEventMessage | AdjustmentMessage;

export const isAdjustment = (message: QueueMessage): message is AdjustmentMessage => "kind" in message && message.kind === "adjustment";

const kindOf = (body: unknown): unknown => (body !== null && typeof body === "object" ? (body as { kind?: unknown }).kind : undefined);

function parseOne(body: unknown): QueueMessage | null {
  const result = (kindOf(body) === "adjustment" ? AdjustmentMessageSchema : LoggedEventMessageSchema).safeParse(body);
  return result.success ? result.data : null;
}

/**
 * The messages a queue message body holds (JSON text or the parsed value): one, or a bundle's items. Null
 * when the body (or any item of a bundle) is neither kind: it is then parked as a dead letter, whole.
 */
export function parseQueueMessage(received: unknown): QueueMessage[] | null {
  // Users' objects send JSON text; older messages (and tests) may carry the object itself.
  let body = received;
  if (typeof received === "string") {
    try {
      body = JSON.parse(received);
    } catch {
      return null;
    }
  }
  if (kindOf(body) !== "bundle") {
    const one = parseOne(body);
    return one ? [one] : null;
  }
  const items = (body as { items?: unknown }).items;
  if (!Array.isArray(items) || items.length === 0) return null;
  const parsed = items.map(parseOne);
  return parsed.every((item) => item !== null) ? (parsed as QueueMessage[]) : null;
}

/** The key a message is deduplicated (and kept in the outbox) under. */
export const messageKey = (message: QueueMessage): string => (isAdjustment(message) ? message.adjustmentUid : message.eventUid);
