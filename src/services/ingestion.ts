import { countLedgerEntries, insertEvents, recordAdjustments } from "../db/event-log";
import { countStoredBytes } from "../db/quotas";
import { recordStandings, type StandingRow } from "../db/leaderboards";
import { recordPointsChanges } from "../db/points";
import { aggregateIngested, moveAdjustedPoints, type ActivityRow } from "../db/stats";
import { recordStreakMoves, type StreakStateRow } from "../db/streak-analytics";
import type { AdjustmentMessage } from "../domain/ledger";
import type { LoggedEventMessage } from "../domain/logged-event";
import type { PointsChangeMessage } from "../domain/points-lifecycle";
import { isAdjustment, isPointsChange, type QueueMessage } from "../domain/queue-message";
import { withStatsFlags, type UserObjects } from "./stats-flags";

/** The users' states the messages carry, one row per (project, user, streak or board period), with the message's seq. */
function carriedStates(messages: readonly QueueMessage[]): { streaks: StreakStateRow[]; standings: StandingRow[] } {
  const streaks: StreakStateRow[] = [];
  const standings: StandingRow[] = [];
  for (const message of messages) {
    if (isPointsChange(message)) continue;
    const { projectKey, userId, updates } = message;
    if (!updates) continue;
    if (!isAdjustment(message)) {
      for (const { previous, ...state } of updates.streaks) {
        if (previous !== undefined) streaks.push({ eventUid: message.eventUid, projectKey, ...state, previous });
      }
    }
    for (const standing of updates.standings) standings.push({ projectKey, userId, seq: updates.seq, ...standing });
  }
  return { streaks, standings };
}

/**
 * Writes what the queue carries to D1 in one batch, which D1 runs as a single transaction: logged events to
 * the log, the stats and the ledger totals; adjustments to the ledger and the stats points; other points changes
 * (redemptions, reversals, expiries, tier changes) to points_changes and the daily points stats; the users'
 * states to the streak analytics and the leaderboard standings. New log rows (their details, event_log_details),
 * adjustments and points changes carry a fresh batch token and the aggregates add exactly the rows with that
 * token, so a redelivery is counted once; standings and adjustments apply only when newer than the stored ones.
 * A failure rolls back all of it.
 * Unique users and streak participants need no row per user: each logged event carries what it changes
 * (decided by the user's object; `objects` answers for messages queued without), and only the events this
 * batch inserted add it.
 * Cost: 11 statements for events, 5 for adjustments, 2 for points changes, 2 for streak states, 4 for standings,
 * whatever their number.
 */
export async function ingest(d1: D1Database, received: readonly QueueMessage[], objects: UserObjects): Promise<void> {
  if (received.length === 0) return;
  const messages = await withStatsFlags(objects, received);
  const batchToken = crypto.randomUUID();
  const events: LoggedEventMessage[] = [];
  const adjustments: AdjustmentMessage[] = [];
  const changes: PointsChangeMessage[] = [];
  // An event or points change twice in one batch (an at-least-once queue may do that) is inserted once and counted once.
  const seen = new Set<string>();
  for (const message of messages) {
    if (isAdjustment(message)) adjustments.push(message);
    else if (isPointsChange(message)) {
      if (!seen.has(message.changeUid)) changes.push(message);
      seen.add(message.changeUid);
    } else if (!seen.has(message.eventUid)) {
      seen.add(message.eventUid);
      events.push(message);
    }
  }
  const states = carriedStates([...events, ...adjustments]);
  const activity: ActivityRow[] = events.flatMap(({ eventUid, projectKey, eventId, occurredAt, activity }) =>
    activity ? [{ eventUid, projectKey, eventId, day: occurredAt.slice(0, 10), ...activity }] : [],
  );
  await d1.batch([
    ...(events.length > 0
      ? [
          ...insertEvents(d1, events, batchToken),
          ...aggregateIngested(d1, batchToken, activity),
          countLedgerEntries(d1, batchToken),
          countStoredBytes(d1, batchToken),
        ]
      : []),
    ...(adjustments.length > 0 ? [...recordAdjustments(d1, adjustments, batchToken), ...moveAdjustedPoints(d1, batchToken)] : []),
    ...recordPointsChanges(d1, changes, batchToken, Date.now()),
    ...recordStreakMoves(d1, batchToken, states.streaks),
    ...recordStandings(d1, states.standings),
  ]);
}
