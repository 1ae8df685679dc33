/** Messages that could not be processed, kept in D1 so they can be inspected and replayed. */

export type DeadLetter = { messageId: string; body: string; attempts: number };

/** Stores dead letters (idempotent on message id) with one statement. */
export async function insertDeadLetters(d1: D1Database, queue: string, letters: readonly DeadLetter[]): Promise<void> {
  await d1
    .prepare(
      `INSERT INTO dead_letters (queue, message_id, body, attempts)
       SELECT ?1, value ->> '$.messageId', value ->> '$.body', value ->> '$.attempts' FROM json_each(?2) WHERE true
       ON CONFLICT (message_id) DO NOTHING`,
    )
    .bind(queue, JSON.stringify(letters))
    .run();
}
