import type { Db } from "../db/client";
import { findDeadLetter, listDeadLetters, markReplayed, type StoredDeadLetter } from "../db/dead-letters";
import { parseQueueMessage } from "../domain/queue-message";
import { ApiError } from "../http/errors";
import { ingest } from "./ingestion";

export type DeadLetterView = Omit<StoredDeadLetter, "body"> & { body: unknown };

const view = ({ body, ...rest }: StoredDeadLetter): DeadLetterView => ({ ...rest, body: parseOrText(body) });

function parseOrText(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}

export async function deadLettersOf(db: Db, projectKey: string, options: { limit: number; before?: number; pendingOnly: boolean }) {
  return (await listDeadLetters(db, projectKey, options)).map(view);
}

/**
 * Replays a dead letter of the project straight into the event log and the stats (not through the queue,
 * which may be what refused it). Idempotent: an event already in the log is not counted again, so replaying
 * twice, or replaying an event that also arrived another way, changes nothing.
 */
export async function replayDeadLetter(d1: D1Database, db: Db, projectKey: string, id: number): Promise<DeadLetterView> {
  const letter = await findDeadLetter(db, projectKey, id);
  if (!letter) throw new ApiError(404, `Dead letter ${id} does not exist in this project`);
  const messages = parseQueueMessage(parseOrText(letter.body));
  if (!messages || messages.some((m) => m.projectKey !== projectKey)) {
    throw new ApiError(422, `Dead letter ${id} is not a logged event or adjustment of this project and cannot be replayed`);
  }
  await ingest(d1, messages);
  const replayedAt = await markReplayed(db, id);
  return view({ ...letter, replayedAt });
}
