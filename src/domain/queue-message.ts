import { AdjustmentMessageSchema, type AdjustmentMessage } from "./ledger";
import { LoggedEventMessageSchema, type LoggedEventMessage } from "./logged-event";
import { PointsChangeMessageSchema, type PointsChangeMessage } from "./points-lifecycle";

/** What the stats queue carries, all from the users' objects: logged events, reward adjustments, other points changes. */
export type QueueMessage = LoggedEventMessage | AdjustmentMessage | PointsChangeMessage;

export const isAdjustment = (message: QueueMessage): message is AdjustmentMessage => "kind" in message && message.kind === "adjustment";
export const isPointsChange = (message: QueueMessage): message is PointsChangeMessage => "kind" in message && message.kind === "points_change";
/** A logged event (a log or a challenge bonus): neither an adjustment nor another points change. */
export const isLoggedEvent = (message: QueueMessage): message is LoggedEventMessage => !("kind" in message) || message.kind === undefined;

const kindOf = (body: unknown): unknown => (body !== null && typeof body === "object" ? (body as { kind?: unknown }).kind : undefined);

function parseOne(body: unknown): QueueMessage | null {
  const kind = kindOf(body);
  const schema = kind === "adjustment" ? AdjustmentMessageSchema : kind === "points_change" ? PointsChangeMessageSchema : LoggedEventMessageSchema;
  const result = schema.safeParse(body);
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
export const messageKey = (message: QueueMessage): string =>
  isAdjustment(message) ? message.adjustmentUid : isPointsChange(message) ? message.changeUid : message.eventUid;
