import { LoggedEventSchema, type LoggedEvent } from "../domain/logged-event";
import { chunkBySize, utf8Bytes } from "../domain/json";
import { ingestEvents } from "./ingest";

export const EVENTS_QUEUE = "loyalty-events";
export const DEAD_LETTER_QUEUE = "loyalty-events-dlq";

/** D1 caps a bound value at 2 MB; keep each call's JSON parameter well below it. */
const MAX_PARAMETER_BYTES = 900_000;

/** Exponential backoff for retried messages: 10 s, 20 s, 40 s ... capped at 10 minutes. */
export const retryDelaySeconds = (attempts: number) => Math.min(600, 10 * 2 ** Math.max(0, attempts - 1));

type Parsed = { message: Message<unknown>; event: LoggedEvent; bytes: number };

export async function handleQueueBatch(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  // Dead letters are copied to D1 so they can be inspected and replayed.
  if (batch.queue === DEAD_LETTER_QUEUE) return parkMessages(env, batch.queue, [...batch.messages]);
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
    const result = LoggedEventSchema.safeParse(message.body);
    if (result.success) parsed.push({ message, event: result.data, bytes: utf8Bytes(JSON.stringify(result.data)) });
    else malformed.push(message);
  }
  if (malformed.length > 0) await parkMessages(env, batch.queue, malformed);

  for (const chunk of chunkBySize(parsed, (p) => p.bytes, MAX_PARAMETER_BYTES)) {
    try {
      await ingestEvents(env.DB, chunk.map((p) => p.event));
      for (const { message } of chunk) message.ack();
    } catch (error) {
      console.error("event ingest failed; retrying chunk", error);
      for (const { message } of chunk) message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    }
  }
}

/** Stores messages in dead_letters (idempotent on message id) and acks them; retries them if D1 fails. */
async function parkMessages(env: Env, queue: string, messages: Message<unknown>[]): Promise<void> {
  const rows = messages.map((message) => {
    const row = JSON.stringify({ id: message.id, body: JSON.stringify(message.body), attempts: message.attempts });
    return { message, row, bytes: utf8Bytes(row) };
  });
  for (const chunk of chunkBySize(rows, (r) => r.bytes, MAX_PARAMETER_BYTES)) {
    try {
      await env.DB.prepare(
        `INSERT INTO dead_letters (queue, message_id, body, attempts)
         SELECT ?1, value ->> '$.id', value ->> '$.body', value ->> '$.attempts' FROM json_each(?2) WHERE true
         ON CONFLICT (message_id) DO NOTHING`,
      )
        .bind(queue, `[${chunk.map((r) => r.row).join(",")}]`)
        .run();
      for (const { message } of chunk) message.ack();
    } catch (error) {
      console.error("could not park messages; retrying", error);
      for (const { message } of chunk) message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    }
  }
}
