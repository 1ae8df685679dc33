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

type Parsed = { message: Message<unknown>; body: QueueMessage; bytes: number };

export async function handleQueueBatch(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  // Dead letters are copied to D1 so they can be inspected and replayed.
  if (batch.queue === DEAD_LETTER_QUEUE) return park(env, batch.queue, [...batch.messages], "retries exhausted");
  return ingestBatch(batch, env);
}

/**
 * Ingests a batch in chunks, each one D1 transaction, and acks or retries per message: a chunk that fails
 * is retried with backoff while the chunks already committed stay acked. A body that can never be ingested
 * is parked in dead_letters rather than dropped.
 */
async function ingestBatch(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const parsed: Parsed[] = [];
  const malformed: Message<unknown>[] = [];
  for (const message of batch.messages) {
    const body = parseQueueMessage(message.body);
    if (body) parsed.push({ message, body, bytes: utf8Bytes(JSON.stringify(body)) });
    else malformed.push(message);
  }
  if (malformed.length > 0) await park(env, batch.queue, malformed, "neither a logged event nor an adjustment");

  for (const chunk of chunkBySize(parsed, (p) => p.bytes, MAX_PARAMETER_BYTES)) {
    await settle(
      chunk.map((p) => p.message),
      () => ingest(env.DB, chunk.map((p) => p.body)),
      "event ingest failed; retrying chunk",
    );
  }
}

/** Stores messages in dead_letters (idempotent on message id) and acks them; retries them if D1 fails. */
async function park(env: Env, queue: string, messages: Message<unknown>[], error: string): Promise<void> {
  const letters = messages.map((message) => {
    const letter: DeadLetter = {
      messageId: message.id,
      projectKey: projectKeyOf(message.body),
      body: JSON.stringify(message.body),
      attempts: message.attempts,
      error,
    };
    return { message, letter, bytes: utf8Bytes(JSON.stringify(letter)) };
  });
  for (const chunk of chunkBySize(letters, (l) => l.bytes, MAX_PARAMETER_BYTES)) {
    await settle(
      chunk.map((l) => l.message),
      () => insertDeadLetters(env.DB, queue, chunk.map((l) => l.letter)),
      "could not park messages; retrying",
    );
  }
}

/** Acks the messages when `work` commits, else retries them with backoff. */
async function settle(messages: Message<unknown>[], work: () => Promise<void>, failure: string): Promise<void> {
  try {
    await work();
    for (const message of messages) message.ack();
  } catch (error) {
    console.error(failure, error);
    for (const message of messages) message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
  }
}

