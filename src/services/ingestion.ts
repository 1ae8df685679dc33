import { insertEvents } from "../db/event-log";
import { aggregateIngested } from "../db/stats";
import { recordStreakStates, type StreakStateRow } from "../db/streak-analytics";
import type { LoggedEvent, LoggedEventMessage } from "../domain/logged-event";

/** The streak states the messages carry, flattened to one row per (project, streak, user). */
const streakStates = (messages: readonly LoggedEventMessage[]): StreakStateRow[] =>
  messages.flatMap((m) =>
    (m.updates?.streaks ?? []).map((s) => ({ projectKey: m.projectKey, userId: m.userId, seq: m.updates!.seq, ...s })),
  );

/**
 * Writes events to the D1 log and the stats rows, and the users' states they carry to the analytics tables,
 * in one D1 batch, which D1 runs as a single transaction. The new log rows carry a fresh batch token and the
 * aggregates add exactly the rows with that token, so a redelivered event (already in the log) is counted
 * once; states apply only when newer than the stored ones. A failure rolls back all of it.
 * Cost: 5 statements per call (8 when streak states are present), whatever the number of events.
 */
export async function ingestEvents(d1: D1Database, messages: readonly (LoggedEvent | LoggedEventMessage)[]): Promise<void> {
  if (messages.length === 0) return;
  const batchToken = crypto.randomUUID();
  await d1.batch([
    insertEvents(d1, messages, batchToken),
    ...aggregateIngested(d1, batchToken),
    ...recordStreakStates(d1, streakStates(messages)),
  ]);
}
