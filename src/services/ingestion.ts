import { countLedgerEntries, insertEvents, recordAdjustments } from "../db/event-log";
import { countStoredBytes } from "../db/quotas";
import { recordStandings, type StandingRow } from "../db/leaderboards";
import { aggregateIngested, moveAdjustedPoints } from "../db/stats";
import { recordStreakStates, type StreakStateRow } from "../db/streak-analytics";
import type { AdjustmentMessage } from "../domain/ledger";
import type { LoggedEventMessage } from "../domain/logged-event";
import { isAdjustment, type QueueMessage } from "../domain/queue-message";
import { count } from "../lib/bench-trace";

/** The users' states the messages carry, one row per (project, user, streak or board period), with the message's seq. */
function carriedStates(messages: readonly QueueMessage[]): { streaks: StreakStateRow[]; standings: StandingRow[] } {
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
 * Writes what the queue carries to D1 in one batch, which D1 runs as a single transaction: logged events to
 * the log, the stats and the ledger totals; adjustments to the ledger and the stats points; the users' states
 * to the streak analytics and the leaderboard standings. New log rows and adjustments carry a fresh batch
 * token and the aggregates add exactly the rows with that token, so a redelivery is counted once; states and
 * adjustments apply only when newer than the stored ones. A failure rolls back all of it.
 * Cost: 6 statements for events, 5 for adjustments, 3 for streak states, 4 for standings, whatever their number.
 */
export async function ingest(d1: D1Database, messages: readonly QueueMessage[]): Promise<void> {
  if (messages.length === 0) return;
  const batchToken = crypto.randomUUID();
  const events: LoggedEventMessage[] = [];
  const adjustments: AdjustmentMessage[] = [];
  for (const message of messages) {
    if (isAdjustment(message)) adjustments.push(message);
    else events.push(message);
  }
  const states = carriedStates(messages);
  count("eventsIngested", events.length);
  await d1.batch([
    ...(events.length > 0 ? [insertEvents(d1, events, batchToken), ...aggregateIngested(d1, batchToken), countLedgerEntries(d1, batchToken), countStoredBytes(d1, batchToken)] : []),
    ...(adjustments.length > 0 ? [...recordAdjustments(d1, adjustments, batchToken), ...moveAdjustedPoints(d1, batchToken)] : []),
    ...recordStreakStates(d1, states.streaks),
    ...recordStandings(d1, states.standings),
  ]);
}
