import { insertEvents } from "../db/event-log";
import { recordStandings, type StandingRow } from "../db/leaderboards";
import { aggregateIngested } from "../db/stats";
import { recordStreakStates, type StreakStateRow } from "../db/streak-analytics";
import type { LoggedEvent, LoggedEventMessage } from "../domain/logged-event";

/** The users' states the messages carry, one row per (project, user, streak or board period), with the log's seq. */
function carriedStates(messages: readonly LoggedEventMessage[]): { streaks: StreakStateRow[]; standings: StandingRow[] } {
  const streaks: StreakStateRow[] = [];
  const standings: StandingRow[] = [];
  for (const { projectKey, userId, updates } of messages) {
    if (!updates) continue;
    for (const state of updates.streaks) streaks.push({ projectKey, userId, seq: updates.seq, ...state });
    for (const standing of updates.standings) standings.push({ projectKey, userId, seq: updates.seq, ...standing });
  }
  return { streaks, standings };
}

/**
 * Writes events to the D1 log and the stats rows, and the users' states they carry to the streak analytics
 * and the leaderboard standings, in one D1 batch, which D1 runs as a single transaction. The new log rows
 * carry a fresh batch token and the aggregates add exactly the rows with that token, so a redelivered event
 * (already in the log) is counted once; states apply only when newer than the stored ones. A failure rolls
 * back all of it. Cost: 5 statements per call, plus 3 with streak states and 4 with standings, whatever the
 * number of events.
 */
export async function ingestEvents(d1: D1Database, messages: readonly (LoggedEvent | LoggedEventMessage)[]): Promise<void> {
  if (messages.length === 0) return;
  const batchToken = crypto.randomUUID();
  const states = carriedStates(messages);
  await d1.batch([
    insertEvents(d1, messages, batchToken),
    ...aggregateIngested(d1, batchToken),
    ...recordStreakStates(d1, states.streaks),
    ...recordStandings(d1, states.standings),
  ]);
}
