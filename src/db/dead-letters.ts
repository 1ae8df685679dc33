import { and, desc, eq, isNull, lt } from "drizzle-orm";
import { PROJECT_KEY_PATTERN } from "../domain/project-key";
import type { Db } from "./client";
import { deadLetters } from "./schema";
import { toHex } from "../lib/bytes";

/**
 * What could not be processed (see the table's comment in schema.ts), kept for inspection and replay: in D1
 * (`dead_letters`), or, when D1 cannot take it, as one R2 object each under `dead-letters/` (see below).
 */

/** The `queue` of rows a user's object set aside from its outbox. */
export const OUTBOX_QUEUE_NAME = "outbox";
export type DeadLetter = {
  messageId: string;
  projectKey: string | null;
  body: string;
  attempts: number;
  error: string | null;
  /** Only for the copy a replay from R2 leaves in D1: when it was first kept, and replayed. */
  receivedAt?: string;
  replayedAt?: string | null;
};

/**
 * Stores dead letters (idempotent on message id) with one statement. A letter that names a replay time is kept
 * as replayed, also when its message id is already stored.
 */
export async function insertDeadLetters(d1: D1Database, queue: string, letters: readonly DeadLetter[]): Promise<void> {
  await d1
    .prepare(
      `INSERT INTO dead_letters (queue, message_id, project_key, body, attempts, error, received_at, replayed_at)
       SELECT ?1, value ->> '$.messageId', value ->> '$.projectKey', value ->> '$.body', value ->> '$.attempts', value ->> '$.error',
              coalesce(value ->> '$.receivedAt', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')), value ->> '$.replayedAt'
       FROM json_each(?2) WHERE true
       ON CONFLICT (message_id) DO UPDATE SET replayed_at = coalesce(dead_letters.replayed_at, excluded.replayed_at)
       WHERE excluded.replayed_at IS NOT NULL`,
    )
    .bind(queue, JSON.stringify(letters))
    .run();
}

export type StoredDeadLetter = {
  id: number;
  queue: string;
  messageId: string;
  body: string;
  attempts: number;
  error: string | null;
  receivedAt: string;
  replayedAt: string | null;
};

const columns = {
  id: deadLetters.id,
  queue: deadLetters.queue,
  messageId: deadLetters.messageId,
  body: deadLetters.body,
  attempts: deadLetters.attempts,
  error: deadLetters.error,
  receivedAt: deadLetters.receivedAt,
  replayedAt: deadLetters.replayedAt,
};

/** A project's dead letters, newest first; `before` pages by id. */
export async function listDeadLetters(
  db: Db,
  projectKey: string,
  options: { limit: number; before?: number; pendingOnly: boolean },
): Promise<StoredDeadLetter[]> {
  return db
    .select(columns)
    .from(deadLetters)
    .where(
      and(
        eq(deadLetters.projectKey, projectKey),
        options.before === undefined ? undefined : lt(deadLetters.id, options.before),
        options.pendingOnly ? isNull(deadLetters.replayedAt) : undefined,
      ),
    )
    .orderBy(desc(deadLetters.id))
    .limit(options.limit);
}

export async function findDeadLetter(db: Db, projectKey: string, id: number): Promise<StoredDeadLetter | null> {
  const [row] = await db
    .select(columns)
    .from(deadLetters)
    .where(and(eq(deadLetters.projectKey, projectKey), eq(deadLetters.id, id)))
    .limit(1);
  return row ?? null;
}

export async function findDeadLetterByMessageId(db: Db, projectKey: string, messageId: string): Promise<StoredDeadLetter | null> {
  const [row] = await db
    .select(columns)
    .from(deadLetters)
    .where(and(eq(deadLetters.projectKey, projectKey), eq(deadLetters.messageId, messageId)))
    .limit(1);
  return row ?? null;
}

export async function markReplayed(db: Db, id: number): Promise<string> {
  const now = new Date().toISOString();
  await db.update(deadLetters).set({ replayedAt: now }).where(eq(deadLetters.id, id));
  return now;
}

/**
 * Deletes up to `limit` dead letters replayed before `before` (ISO time), oldest first; returns how many. A
 * replayed letter's message can no longer come back (the queues keep a message 14 days), so nothing needs it.
 * Letters not replayed stay: they are events still waiting for an admin. Dead letters are few (a scan is fine).
 */
export async function deleteReplayedDeadLetters(d1: D1Database, before: string, limit: number): Promise<number> {
  const result = await d1
    .prepare(
      `DELETE FROM dead_letters WHERE id IN (
         SELECT id FROM dead_letters WHERE replayed_at IS NOT NULL AND replayed_at < ?1 ORDER BY replayed_at LIMIT ?2)`,
    )
    .bind(before, limit)
    .run();
  return result.meta.changes;
}

// ---------------------------------------------------------------------------------------------------------
// Dead letters in R2 (binding ARCHIVE): where a dead letter goes when D1 cannot take it.
//
// Key: `dead-letters/<projectKey>/<inverted time>-<message part>.json`, where
// - <projectKey> is the letter's project key, or `~unknown` when it has none or one that is not a valid project
//   key (`~` never occurs in a project key, so no project's prefix reaches these);
// - <inverted time> is 9999999999999 minus the storing time in epoch milliseconds, 13 digits: R2 lists keys in
//   ascending order, so a project's prefix lists its newest letters first and a page is one bounded list call;
// - <message part> is the message id when it is 1-100 characters of [A-Za-z0-9_.-] (queue message ids, event
//   uids), else `h` and the first 40 hex digits of its SHA-256.
// The object is the JSON of an ArchivedDeadLetter: the fields of a D1 row except its numeric id.
// ---------------------------------------------------------------------------------------------------------

export const ARCHIVE_PREFIX = "dead-letters/";
const UNKNOWN_PROJECT_DIR = "~unknown";
const LATEST_MS = 9_999_999_999_999;
/** The part of an R2 dead letter's key after the project's prefix, without `.json`: its name within the project. */
export const ARCHIVED_NAME_PATTERN = /^(\d{13})-([A-Za-z0-9_.-]{1,100})$/;
const SAFE_MESSAGE_ID = /^[A-Za-z0-9_.-]{1,100}$/;

export type ArchivedDeadLetter = {
  queue: string;
  messageId: string;
  projectKey: string | null;
  body: string;
  attempts: number;
  error: string | null;
  receivedAt: string;
  replayedAt: null;
};

const projectDir = (projectKey: string | null): string => (projectKey !== null && PROJECT_KEY_PATTERN.test(projectKey) ? projectKey : UNKNOWN_PROJECT_DIR);
const projectPrefix = (projectKey: string | null): string => `${ARCHIVE_PREFIX}${projectDir(projectKey)}/`;
const keyOf = (projectKey: string | null, name: string): string => `${projectPrefix(projectKey)}${name}.json`;

/** When a letter was stored, from its name (epoch ms). */
export const archivedAtMs = (name: string): number => LATEST_MS - Number(name.slice(0, 13));

async function messagePart(messageId: string): Promise<string> {
  if (SAFE_MESSAGE_ID.test(messageId)) return messageId;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(messageId)));
  return `h${toHex(digest.slice(0, 20))}`;
}

/** The message id a name holds, when it holds one (not a hash). */
export const messageIdOfName = (name: string): string | null => {
  const part = ARCHIVED_NAME_PATTERN.exec(name)?.[2];
  return part === undefined || /^h[0-9a-f]{40}$/.test(part) ? null : part;
};

/** Writes one dead letter as an R2 object and returns its name within its project. */
export async function archiveDeadLetter(bucket: R2Bucket, queue: string, letter: DeadLetter, now = Date.now()): Promise<string> {
  const name = `${String(LATEST_MS - now).padStart(13, "0")}-${await messagePart(letter.messageId)}`;
  const stored: ArchivedDeadLetter = {
    queue,
    messageId: letter.messageId,
    projectKey: letter.projectKey,
    body: letter.body,
    attempts: letter.attempts,
    error: letter.error,
    receivedAt: new Date(now).toISOString(),
    replayedAt: null,
  };
  await bucket.put(keyOf(letter.projectKey, name), JSON.stringify(stored), {
    httpMetadata: { contentType: "application/json" },
    customMetadata: { queue, messageId: letter.messageId.slice(0, 200) },
  });
  return name;
}

/** Names of a project's R2 dead letters, newest first, after `after` (a name): one list call of at most `limit`. */
export async function listArchivedDeadLetterNames(
  bucket: R2Bucket,
  projectKey: string,
  options: { limit: number; after?: string },
): Promise<{ names: string[]; truncated: boolean }> {
  // Only a valid project key reads its own prefix (any other would read the `~unknown` one).
  if (!PROJECT_KEY_PATTERN.test(projectKey)) return { names: [], truncated: false };
  const prefix = projectPrefix(projectKey);
  const listed = await bucket.list({
    prefix,
    limit: options.limit,
    ...(options.after === undefined ? {} : { startAfter: keyOf(projectKey, options.after) }),
  });
  const names = listed.objects.map((object) => object.key.slice(prefix.length).replace(/\.json$/, "")).filter((name) => ARCHIVED_NAME_PATTERN.test(name));
  return { names, truncated: listed.truncated };
}

/** One of a project's R2 dead letters, or null. */
export async function readArchivedDeadLetter(bucket: R2Bucket, projectKey: string, name: string): Promise<ArchivedDeadLetter | null> {
  if (!ARCHIVED_NAME_PATTERN.test(name) || !PROJECT_KEY_PATTERN.test(projectKey)) return null;
  const object = await bucket.get(keyOf(projectKey, name));
  return object ? ((await object.json()) as ArchivedDeadLetter) : null;
}

export async function deleteArchivedDeadLetter(bucket: R2Bucket, projectKey: string, name: string): Promise<void> {
  if (!ARCHIVED_NAME_PATTERN.test(name) || !PROJECT_KEY_PATTERN.test(projectKey)) return;
  await bucket.delete(keyOf(projectKey, name));
}
