import { insertDeadLetters, type DeadLetter } from "../db/dead-letters";
import { chunkBySize, utf8Bytes } from "../domain/json";
import { projectKeyOf } from "../domain/logged-event";
import { parseQueueMessage, type QueueMessage } from "../domain/queue-message";
import { ingest } from "../services/ingestion";

export const EVENTS_QUEUE = "loyalty-events";
export const DEAD_LETTER_QUEUE = "loyalty-events-dlq";

/** D1 caps a bound value at 2 MB; keep each call's JSON parameter well below it. */
const MAX_PARAMETER_BYTES = 900_000;

/** Exponential backoff for retried messages: 10 s, 20 s, 40 s ... capped at 10 minutes. */
export const retryDelaySeconds = (attempts: number) => Math.min(600, 10 * 2 ** Math.max(0, attempts - 1));

/** One item to ingest and the queue message it came in (a bundle brings several). */
type Item = { message: Message<unknown>; body: QueueMessage; bytes: number };

export async function handleQueueBatch(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  // Dead letters are copied to D1 so they can be inspected and replayed.
  if (batch.queue === DEAD_LETTER_QUEUE) return park(env, batch.queue, [...batch.messages], "retries exhausted");
  return ingestBatch(batch, env);
}

/**
 * Ingests a batch in chunks, each one D1 transaction, and acks or retries per message: a message is acked
 * when every chunk holding its items committed, else retried with backoff (ingestion is idempotent, so the
 * items that did commit count once). A body that can never be ingested is parked in dead_letters.
 */
async function ingestBatch(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const items: Item[] = [];
  const malformed: Message<unknown>[] = [];
  for (const message of batch.messages) {
    const bodies = parseQueueMessage(message.body);
    if (bodies) for (const body of bodies) items.push({ message, body, bytes: utf8Bytes(JSON.stringify(body)) });
    else malformed.push(message);
  }
  if (malformed.length > 0) await park(env, batch.queue, malformed, "neither a logged event, an adjustment nor a bundle of them");

  const failed = new Set<Message<unknown>>();
  for (const chunk of chunkBySize(items, (item) => item.bytes, MAX_PARAMETER_BYTES)) {
    try {
      await ingest(env.DB, chunk.map((item) => item.body));
    } catch (error) {
      console.error("ingest failed; retrying the messages of this chunk", error);
      for (const item of chunk) failed.add(item.message);
    }
  }
  for (const message of new Set(items.map((item) => item.message))) {
    if (failed.has(message)) message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    else message.ack();
  }
}

/** Stores messages in dead_letters (idempotent on message id) and acks them; retries them if D1 fails. */
async function park(env: Env, queue: string, messages: Message<unknown>[], error: string): Promise<void> {
  const letters = messages.map((message) => {
    const text = typeof message.body === "string" ? message.body : JSON.stringify(message.body);
    const letter: DeadLetter = {
      messageId: message.id,
      projectKey: projectKeyOf(parsedOrNull(text)),
      body: text,
      attempts: message.attempts,
      error,
    };
    return { message, letter, bytes: utf8Bytes(JSON.stringify(letter)) };
  });
  for (const chunk of chunkBySize(letters, (l) => l.bytes, MAX_PARAMETER_BYTES)) {
    try {
      await insertDeadLetters(env.DB, queue, chunk.map((l) => l.letter));
      for (const { message } of chunk) message.ack();
    } catch (cause) {
      console.error("could not park messages; retrying", cause);
      for (const { message } of chunk) message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    }
  }
}

function parsedOrNull(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
