import type { DeadLetter } from "../db/dead-letters";
import { chunkBySize, utf8Bytes } from "../domain/json";
import { projectKeyOf } from "../domain/logged-event";
import { isLoggedEvent, parseQueueMessage, type QueueMessage } from "../domain/queue-message";
import { count } from "../lib/bench-trace";
import { parkDeadLetters } from "../services/dead-letters";
import { ingest } from "../services/ingestion";
import { handOverWebhookEvents } from "../services/webhook-emission";
import type { UserObjects } from "../services/stats-flags";

export const EVENTS_QUEUE = "loyalty-events";
export const DEAD_LETTER_QUEUE = "loyalty-events-dlq";

/**
 * Retries and retention (the README's "Queue retries and dead letters" lists them; keep it, and wrangler.toml's
 * `max_retries` of both consumers, in step with these).
 *
 * A message is delivered at most MAX_RETRIES + 1 times. Every failure of the infrastructure (any error thrown
 * by a D1 call) is retried with retryDelaySeconds(attempts): 10 s, 20 s, 40 s ... doubling up to 3 hours, which
 * adds up to about 11.4 days over 100 retries; the queues keep messages 14 days (QUEUE_RETENTION_SECONDS, set
 * with `wrangler queues create|update --message-retention-period-secs`). Only the last delivery, or one whose
 * next retry would come within a day of the retention's end, parks the message (D1, else R2) instead.
 */
export const MAX_RETRIES = 100;
export const QUEUE_RETENTION_SECONDS = 14 * 86_400;
export const FIRST_RETRY_DELAY_SECONDS = 10;
export const MAX_RETRY_DELAY_SECONDS = 3 * 3_600;
/** Slack before the end of retention for a last delivery (a day; less for a short retention). */
const RETENTION_MARGIN_SECONDS = Math.min(86_400, QUEUE_RETENTION_SECONDS / 4);

/** The delay after the `attempts`-th delivery failed: exponential from 10 s, capped at 3 hours. */
export const retryDelaySeconds = (attempts: number) =>
  Math.min(MAX_RETRY_DELAY_SECONDS, FIRST_RETRY_DELAY_SECONDS * 2 ** Math.min(30, Math.max(0, attempts - 1)));

/** D1 caps a bound value at 2 MB; keep each call's JSON parameter well below it. An item larger than this can never be stored. */
const MAX_PARAMETER_BYTES = 900_000;

/** One item to ingest and the queue message it came in (a bundle brings several). */
type Item = { message: Message<unknown>; body: QueueMessage; bytes: number };
/** A message to keep as a dead letter, and why. */
type Parked = { message: Message<unknown>; error: string };

export async function handleQueueBatch(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  // What the events queue gave up on (its consumer threw past max_retries) is kept for inspection and replay.
  if (batch.queue === DEAD_LETTER_QUEUE) {
    return park(
      env,
      batch.queue,
      batch.messages.map((message) => ({ message, error: `retries on ${EVENTS_QUEUE} exhausted` })),
    );
  }
  return ingestBatch(batch, env);
}

/**
 * Ingests a batch in chunks, each one D1 transaction, and acks or retries per message: a message is acked
 * when every chunk holding its items committed and the webhook events it emits were handed over. A message that can never be stored (not JSON, fails the
 * schema, an item too large for a D1 call) is parked at once; a message D1 failed for is retried with growing
 * delays for as long as the queue keeps it (ingestion is idempotent, so items that did commit count once), and
 * parked only on its last delivery. Parking goes to D1, else to R2; a message neither takes is retried.
 */
async function ingestBatch(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const items: Item[] = [];
  const unstorable: Parked[] = [];
  for (const message of batch.messages) {
    const bodies = parseQueueMessage(message.body);
    if (!bodies) {
      unstorable.push({ message, error: "neither a logged event, an adjustment nor a bundle of them" });
      continue;
    }
    const own = bodies.map((body) => ({ message, body, bytes: utf8Bytes(JSON.stringify(body)) }));
    if (own.some((item) => item.bytes > MAX_PARAMETER_BYTES)) {
      unstorable.push({ message, error: `holds an item larger than ${MAX_PARAMETER_BYTES} bytes, more than a D1 call takes` });
      continue;
    }
    items.push(...own);
  }

  /** Messages with an item D1 did not commit, with the last error. */
  const failed = new Map<Message<unknown>, unknown>();
  let d1Down = false;
  for (const chunk of chunkBySize(items, (item) => item.bytes, MAX_PARAMETER_BYTES)) {
    const outcome: Outcome = d1Down ? { failed: chunk, error: "not tried: D1 failed for this batch", down: true } : await ingestIsolating(env.DB, env, chunk);
    for (const item of outcome.failed) failed.set(item.message, outcome.error);
    d1Down ||= outcome.down;
  }

  // What the committed messages emit goes to the webhooks queue before they are acked; if it cannot, they
  // are retried (ingesting them again changes nothing, and the events keep their ids).
  const committed = items.filter((item) => !failed.has(item.message)).map((item) => ({ source: item.message, body: item.body }));
  const webhooks = await handOverWebhookEvents(env, committed);
  const givenUp: Parked[] = [];
  for (const message of new Set(items.map((item) => item.message))) {
    const notHandedOver = webhooks.notHandedOver.has(message);
    if (!failed.has(message) && !notHandedOver) message.ack();
    else if (!lastChance(message)) message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    else if (notHandedOver)
      givenUp.push({ message, error: `its webhook events were not handed over on all ${message.attempts} deliveries; last: ${describe(webhooks.error)}` });
    else givenUp.push({ message, error: `D1 failed on all ${message.attempts} deliveries; last: ${describe(failed.get(message))}` });
  }
  await park(env, batch.queue, [...unstorable, ...givenUp]);
}

/** Whether this delivery is the message's last: retries are used up, or the next would come too close to the end of retention. */
function lastChance(message: Message<unknown>): boolean {
  if (message.attempts > MAX_RETRIES) return true;
  const ageSeconds = (Date.now() - message.timestamp.getTime()) / 1000;
  return ageSeconds + retryDelaySeconds(message.attempts) > QUEUE_RETENTION_SECONDS - RETENTION_MARGIN_SECONDS;
}

type Outcome = { failed: Item[]; error: unknown; down: boolean };

async function attempt(d1: D1Database, objects: UserObjects, items: readonly Item[]): Promise<unknown> {
  try {
    await ingest(
      d1,
      items.map((item) => item.body),
      objects,
    );
    // The bench's per-event figures (src/lib/bench-trace.ts): the logged events this call committed.
    count("eventsIngested", items.filter((item) => isLoggedEvent(item.body)).length);
    return null;
  } catch (error) {
    return error ?? new Error("ingest failed");
  }
}

/**
 * Ingests a chunk; when D1 fails it and the chunk holds several messages, tries each half (by message) once:
 * if both fail, D1 is taken to be down (3 calls, and the batch's later chunks are not tried); if one commits,
 * the other is split the same way, so a message D1 keeps refusing does not hold back the messages beside it
 * (about 2·log2(n) more calls).
 */
async function ingestIsolating(d1: D1Database, objects: UserObjects, items: readonly Item[]): Promise<Outcome> {
  const error = await attempt(d1, objects, items);
  if (error === null) return { failed: [], error: null, down: false };
  console.error("ingest failed; retrying its messages", error);
  return isolate(d1, objects, items, error);
}

async function isolate(d1: D1Database, objects: UserObjects, items: readonly Item[], error: unknown): Promise<Outcome> {
  const messages = [...new Set(items.map((item) => item.message))];
  if (messages.length < 2) return { failed: [...items], error, down: false };
  const first = new Set(messages.slice(0, Math.ceil(messages.length / 2)));
  const halves = [items.filter((item) => first.has(item.message)), items.filter((item) => !first.has(item.message))] as const;
  const errors = [await attempt(d1, objects, halves[0]), await attempt(d1, objects, halves[1])] as const;
  if (errors[0] !== null && errors[1] !== null) return { failed: [...items], error: errors[1], down: true };
  if (errors[0] === null && errors[1] === null) return { failed: [], error: null, down: false };
  return errors[0] !== null ? isolate(d1, objects, halves[0], errors[0]) : isolate(d1, objects, halves[1], errors[1]);
}

const describe = (error: unknown): string => String(error instanceof Error ? error.message : error).slice(0, 500);

/**
 * Keeps messages as dead letters (D1, else R2; idempotent on message id in D1) and acks them; a message that
 * neither store took is retried, so the queue never drops it while it has retries left.
 */
async function park(env: Env, queue: string, parked: readonly Parked[]): Promise<void> {
  if (parked.length === 0) return;
  const letters = parked.map(({ message, error }) => {
    const text = typeof message.body === "string" ? message.body : (JSON.stringify(message.body) ?? String(message.body));
    const letter: DeadLetter = { messageId: message.id, projectKey: projectKeyOf(parsedOrNull(text)), body: text, attempts: message.attempts, error };
    return { message, letter };
  });
  const notKept = new Set(
    await parkDeadLetters(
      env,
      queue,
      letters.map(({ letter }) => letter),
    ),
  );
  for (const { message, letter } of letters) {
    if (notKept.has(letter)) message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    else message.ack();
  }
}

function parsedOrNull(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
