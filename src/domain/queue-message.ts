import { AdjustmentMessageSchema, type AdjustmentMessage } from "./ledger";
import { LoggedEventMessageSchema, type LoggedEventMessage } from "./logged-event";

/** What the stats queue carries: logged events and reward adjustments, both from the users' objects. */
export type QueueMessage = LoggedEventMessage | AdjustmentMessage;

export const isAdjustment = (message: QueueMessage): message is AdjustmentMessage => "kind" in message && message.kind === "adjustment";

/** Parses a queue message body; null when it is neither kind (it is then parked as a dead letter). */
export function parseQueueMessage(body: unknown): QueueMessage | null {
  const isAdjustmentBody = body !== null && typeof body === "object" && (body as { kind?: unknown }).kind === "adjustment";
  const result = (isAdjustmentBody ? AdjustmentMessageSchema : LoggedEventMessageSchema).safeParse(body);
  return result.success ? result.data : null;
}

/** The key a message is deduplicated (and kept in the outbox) under. */
export const messageKey = (message: QueueMessage): string => (isAdjustment(message) ? message.adjustmentUid : message.eventUid);
