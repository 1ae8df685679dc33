import { and, desc, eq, isNull, lt } from "drizzle-orm";
import type { Db } from "./client";
import { deadLetters } from "./schema";

/** What could not be processed (see the table's comment in schema.ts), kept for inspection and replay. */

/** The `queue` of rows a user's object set aside from its outbox. */
export const OUTBOX_QUEUE_NAME = "outbox";
export type DeadLetter = { messageId: string; projectKey: string | null; body: string; attempts: number; error: string | null };

/** Stores dead letters (idempotent on message id) with one statement. */
export async function insertDeadLetters(d1: D1Database, queue: string, letters: readonly DeadLetter[]): Promise<void> {
  await d1
    .prepare(
      `INSERT INTO dead_letters (queue, message_id, project_key, body, attempts, error)
       SELECT ?1, value ->> '$.messageId', value ->> '$.projectKey', value ->> '$.body', value ->> '$.attempts', value ->> '$.error'
       FROM json_each(?2) WHERE true
       ON CONFLICT (message_id) DO NOTHING`,
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

export async function markReplayed(db: Db, id: number): Promise<string> {
  const now = new Date().toISOString();
  await db
    .update(deadLetters)
    .set({ replayedAt: now })
    .where(eq(deadLetters.id, id));
  return now;
}
