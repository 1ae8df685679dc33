import { z } from "@hono/zod-openapi";
import { getDb } from "../db/client";
import {
  archiveDeadLetter,
  archivedAtMs,
  ARCHIVED_NAME_PATTERN,
  deleteArchivedDeadLetter,
  deleteReplayedDeadLetters,
  findDeadLetter,
  findDeadLetterByMessageId,
  insertDeadLetters,
  listArchivedDeadLetterNames,
  listDeadLetters,
  markReplayed,
  messageIdOfName,
  readArchivedDeadLetter,
  type ArchivedDeadLetter,
  type DeadLetter,
  type StoredDeadLetter,
} from "../db/dead-letters";
import { chunkBySize, utf8Bytes } from "../domain/json";
import { parseQueueMessage, type QueueMessage } from "../domain/queue-message";
import { ApiError } from "../http/errors";
import { decodeCursor, encodeCursor } from "../lib/cursor";
import { ingest } from "./ingestion";
import { handOverWebhookEvents } from "./webhook-emission";

/**
 * Dead letters live in two stores: D1 (`dead_letters`), and R2 (`ARCHIVE`) for the letters D1 could not take
 * when they were parked (D1 unavailable, overloaded or full), so parking never depends on the part that just
 * failed. Ids tell the store: `d1-<row id>` and `r2-<name>` (the object's name within its project's prefix,
 * see src/db/dead-letters.ts). Listing merges both stores newest first; replaying writes the event into the log
 * and the stats (idempotent on the event's id) and, for an R2 letter, moves it into D1 marked as replayed.
 */
export type DeadLetterStores = { DB: D1Database; ARCHIVE: R2Bucket };
export type DeadLetterStore = "d1" | "r2";

export type DeadLetterView = {
  id: string;
  store: DeadLetterStore;
  queue: string;
  messageId: string;
  attempts: number;
  error: string | null;
  receivedAt: string;
  replayedAt: string | null;
  body: unknown;
};

/** D1 caps a bound value at 2 MB; keep each statement's JSON parameter well below it. */
const MAX_PARAMETER_BYTES = 900_000;
/** How long a client waits after a 503 of these routes. */
const RETRY_AFTER_SECONDS = 30;

function parseOrText(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}

const d1View = ({ id, body, ...rest }: StoredDeadLetter): DeadLetterView => ({ ...rest, id: `d1-${id}`, store: "d1", body: parseOrText(body) });
const r2View = (name: string, { queue, messageId, attempts, error, receivedAt, body }: ArchivedDeadLetter): DeadLetterView => ({
  id: `r2-${name}`,
  store: "r2",
  queue,
  messageId,
  attempts,
  error,
  receivedAt,
  replayedAt: null,
  body: parseOrText(body),
});

// ----------------------------------------------------------------------------------------------------------
// Parking
// ----------------------------------------------------------------------------------------------------------

/**
 * Keeps dead letters: in D1 (one statement per ~900 KB of letters), or, once a D1 statement failed (for any
 * reason), each as an R2 object. Resolves with the letters neither store took (the same objects; empty when
 * all were kept); never rejects.
 */
export async function parkDeadLetters(stores: DeadLetterStores, queue: string, letters: readonly DeadLetter[]): Promise<DeadLetter[]> {
  const notKept: DeadLetter[] = [];
  let d1Failed = false;
  for (const chunk of chunkBySize(letters, (letter) => utf8Bytes(JSON.stringify(letter)), MAX_PARAMETER_BYTES)) {
    if (!d1Failed) {
      try {
        await insertDeadLetters(stores.DB, queue, chunk);
        continue;
      } catch (error) {
        console.error("D1 could not take dead letters; keeping them in R2", error);
        d1Failed = true;
      }
    }
    const results = await Promise.allSettled(chunk.map((letter) => archiveDeadLetter(stores.ARCHIVE, queue, letter)));
    results.forEach((result, i) => {
      if (result.status === "rejected") {
        console.error("R2 could not take a dead letter either", result.reason);
        notKept.push(chunk[i]!);
      }
    });
  }
  return notKept;
}

/**
 * For a user's object setting rows aside from its outbox (`queue` = OUTBOX_QUEUE_NAME): like parkDeadLetters,
 * but rejects unless every letter was kept, so the outbox keeps its rows and tries again later (a letter kept
 * in R2 by a failed call may then be kept twice; replays are idempotent on the event's id).
 */
export async function setAsideDeadLetters(stores: DeadLetterStores, queue: string, letters: readonly DeadLetter[]): Promise<void> {
  const notKept = await parkDeadLetters(stores, queue, letters);
  if (notKept.length > 0) throw new Error(`${notKept.length} of ${letters.length} dead letters could be kept neither in D1 nor in R2`);
}

// ----------------------------------------------------------------------------------------------------------
// Ids and cursors
// ----------------------------------------------------------------------------------------------------------

export type DeadLetterRef = { store: "d1"; id: number } | { store: "r2"; name: string };

/** `d1-<n>` (or a bare `<n>`, as ids were before R2) or `r2-<name>`; null for anything else. */
export function parseDeadLetterId(id: string): DeadLetterRef | null {
  const d1 = /^(?:d1-)?([1-9]\d{0,15})$/.exec(id);
  if (d1) return { store: "d1", id: Number(d1[1]) };
  const name = id.startsWith("r2-") ? id.slice(3) : null;
  return name !== null && ARCHIVED_NAME_PATTERN.test(name) ? { store: "r2", name } : null;
}

/** Where a page ends in each store: the last D1 id and the last R2 name it showed (absent: from the newest). */
export type DeadLetterCursor = { d1?: number; r2?: string };

const DeadLetterCursorSchema = z
  .strictObject({ d1: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(), r2: z.string().regex(ARCHIVED_NAME_PATTERN).optional() })
  .transform(({ d1, r2 }): DeadLetterCursor => ({ ...(d1 === undefined ? {} : { d1 }), ...(r2 === undefined ? {} : { r2 }) }));

/** The cursor a page's `nextCursor` holds, or null when `text` is not one. */
export const decodeDeadLetterCursor = (text: string): DeadLetterCursor | null => decodeCursor(text, DeadLetterCursorSchema);

/** A failure of D1 or R2 while serving an admin: 503 with Retry-After (the call changed nothing or is repeatable). */
async function fromStores<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof ApiError) throw error;
    console.error("dead letters: storage failed", error);
    throw new ApiError(503, "Dead letters are temporarily unavailable; retry later", undefined, { "Retry-After": String(RETRY_AFTER_SECONDS) });
  }
}

// ----------------------------------------------------------------------------------------------------------
// Listing and replaying
// ----------------------------------------------------------------------------------------------------------

/**
 * A page of a project's dead letters from both stores, newest first: at most `limit` rows from D1 (an index
 * range) and one R2 list call of at most `limit` keys, merged; then the bodies of the R2 letters shown.
 * `nextCursor` continues after this page (null when both stores are exhausted).
 */
export async function deadLettersOf(
  stores: DeadLetterStores,
  projectKey: string,
  options: { limit: number; cursor?: DeadLetterCursor; pendingOnly: boolean },
): Promise<{ items: DeadLetterView[]; nextCursor: string | null }> {
  const { limit, pendingOnly } = options;
  const cursor = options.cursor ?? {};
  return fromStores(async () => {
    const [rows, archived] = await Promise.all([
      listDeadLetters(getDb(stores.DB), projectKey, { limit, before: cursor.d1, pendingOnly }),
      listArchivedDeadLetterNames(stores.ARCHIVE, projectKey, { limit, after: cursor.r2 }),
    ]);
    // Merge the two newest-first runs; each store's part of the page is a prefix of what it returned, so the
    // next page continues after the last one shown of each. When a store's run ends while it may hold more,
    // the page ends there (the rest of the other store comes after it).
    const picked: Array<{ store: "d1"; row: StoredDeadLetter } | { store: "r2"; name: string }> = [];
    let i = 0;
    let j = 0;
    let more = false;
    while (picked.length < limit) {
      const row = rows[i];
      const name = archived.names[j];
      if (row === undefined && name === undefined) {
        more = archived.truncated;
        break;
      }
      if (name === undefined && archived.truncated) {
        more = true;
        break;
      }
      if (row !== undefined && (name === undefined || Date.parse(row.receivedAt) >= archivedAtMs(name))) {
        picked.push({ store: "d1", row });
        i += 1;
      } else {
        picked.push({ store: "r2", name: name! });
        j += 1;
      }
    }
    if (picked.length === limit) more = true;
    const next: DeadLetterCursor = { ...cursor };
    for (const entry of picked) {
      if (entry.store === "d1") next.d1 = entry.row.id;
      else next.r2 = entry.name;
    }
    const bodies = await Promise.all(picked.map((entry) => (entry.store === "r2" ? readArchivedDeadLetter(stores.ARCHIVE, projectKey, entry.name) : null)));
    const items = picked.flatMap((entry, k): DeadLetterView[] => {
      if (entry.store === "d1") return [d1View(entry.row)];
      const letter = bodies[k];
      return letter ? [r2View(entry.name, letter)] : []; // replayed meanwhile
    });
    return { items, nextCursor: more ? encodeCursor(next) : null };
  });
}

const notFound = (id: string) => new ApiError(404, `Dead letter ${id} does not exist in this project`);

function replayable(id: string, projectKey: string, body: string) {
  const messages = parseQueueMessage(parseOrText(body));
  if (!messages || messages.some((m) => m.projectKey !== projectKey)) {
    throw new ApiError(422, `Dead letter ${id} is not a logged event or adjustment of this project and cannot be replayed`);
  }
  return messages;
}

/**
 * Replays a dead letter of the project straight into the event log and the stats (not through the queue,
 * which may be what refused it). Idempotent: an event already in the log is not counted again, so replaying
 * twice, or replaying an event that also arrived another way, changes nothing. A letter from R2 is then kept
 * in D1 as replayed and its object deleted; the answer is that D1 copy (also when the R2 id is replayed
 * again). 404 for an id of another project or none; 503 while D1 (or R2) fails.
 */
export async function replayDeadLetter(stores: Env, projectKey: string, id: string): Promise<DeadLetterView> {
  const ref = parseDeadLetterId(id);
  if (!ref) throw notFound(id);
  const db = getDb(stores.DB);
  if (ref.store === "d1") {
    const letter = await fromStores(() => findDeadLetter(db, projectKey, ref.id));
    if (!letter) throw notFound(id);
    const messages = replayable(id, projectKey, letter.body);
    const replayedAt = await fromStores(async () => {
      await ingest(stores.DB, messages, stores);
      await handOverReplayed(stores, messages);
      return markReplayed(db, ref.id);
    });
    return d1View({ ...letter, replayedAt });
  }

  const letter = await fromStores(() => readArchivedDeadLetter(stores.ARCHIVE, projectKey, ref.name));
  if (!letter) {
    // Replayed before: its D1 copy answers (when the name holds the message id).
    const messageId = messageIdOfName(ref.name);
    const copy = messageId === null ? null : await fromStores(() => findDeadLetterByMessageId(db, projectKey, messageId));
    if (copy?.replayedAt) return d1View(copy);
    throw notFound(id);
  }
  const messages = replayable(id, projectKey, letter.body);
  return fromStores(async () => {
    await ingest(stores.DB, messages, stores);
    await handOverReplayed(stores, messages);
    const { queue, messageId, body, attempts, error, receivedAt } = letter;
    await insertDeadLetters(stores.DB, queue, [{ messageId, projectKey, body, attempts, error, receivedAt, replayedAt: new Date().toISOString() }]);
    await deleteArchivedDeadLetter(stores.ARCHIVE, projectKey, ref.name);
    const copy = await findDeadLetterByMessageId(db, projectKey, messageId);
    return copy ? d1View(copy) : { ...r2View(ref.name, letter), replayedAt: new Date().toISOString() };
  });
}

/**
 * A replay emits the webhook events its messages emit, with the ids the queue's delivery would have given them
 * (receivers deduplicate); when they cannot be handed over, the replay fails (503) before it is marked done.
 */
async function handOverReplayed(env: Env, messages: readonly QueueMessage[]): Promise<void> {
  const { notHandedOver, error } = await handOverWebhookEvents(
    env,
    messages.map((body) => ({ source: body, body })),
  );
  if (notHandedOver.size > 0) throw error ?? new Error("webhook events not handed over");
}

/** How long a replayed dead letter stays listed (with `replayedAt`) before the cron removes it. */
export const REPLAYED_DEAD_LETTER_RETENTION_MS = 30 * 86_400_000;

/** The cron's part: dead letters replayed more than 30 days ago, 1,000 per run. */
export const removeReplayedDeadLetters = (d1: D1Database, now = Date.now()): Promise<number> =>
  deleteReplayedDeadLetters(d1, new Date(now - REPLAYED_DEAD_LETTER_RETENTION_MS).toISOString(), 1_000);
