import { completionEvent } from "../domain/challenges";
import { fitsInBytes } from "../domain/json";
import { MAX_QUEUE_MESSAGE_BYTES } from "../domain/limits";
import type { LogCommand, LogOutcome } from "../domain/log-command";
import type { PointsPolicy } from "../domain/points-lifecycle";
import { buildLoggedEvent, eventLoggedEnvelope, type EventLoggedEnvelope, type LoggedEvent, type LoggedEventMessage } from "../domain/logged-event";
import { decideReward, usergroupsNotHeld } from "../domain/rewards";
import { advanceChallenges } from "./challenge-progress";
import { advanceLeaderboards } from "./leaderboard-progress";
import { findIdempotencyRecord, rememberResponse } from "./storage/idempotency";
import { appendToLedger } from "./storage/ledger";
import { countRewardedLog, usedInPeriod } from "./storage/limit-counters";
import type { Outbox } from "./storage/outbox";
import type { UserProfile } from "../domain/user";
import { creditPoints } from "./points-changes";
import { recordChange } from "./storage/profile";
import { advanceStreaks } from "./streak-progress";
import { recordActivity, reportStreaks } from "./stats-activity";
import { currentTier, tierAfterEarning } from "./tier-progress";

/** Thrown inside a log's transaction to roll back what it wrote and answer `outcome` instead. */
export class LogRefused extends Error {
  constructor(readonly outcome: LogOutcome) {
    super(outcome.kind);
  }
}

/** The event as an entry of the user's ledger (appended, with its loyalty id); refused when the ledger is full. */
function inLedger(sql: SqlStorage, event: LoggedEvent): LoggedEvent {
  const entry = appendToLedger(sql, event);
  if (entry === null) throw new LogRefused({ kind: "ledger_full" });
  return entry;
}

/**
 * Applies one command to the user's storage; the caller runs it in a transaction, which a LogRefused rolls
 * back, and passes the user's profile as it holds it (the object is the only writer of it). Order: an idempotency replay or conflict, a refusal from the Worker, a user token's usergroup the user is not in, then the decision (src/domain)
 * and its writes: limit counter, streaks, challenges (a completion adds its bonus and its own event-log
 * entry), leaderboard scores, balance, outbox rows and the idempotency record. With `statsReady` (the object
 * has its user's stats history) each logged event carries its stats flags (./stats-activity); without, the
 * consumer asks for them later. Points lifecycle (`policy`, the newest the object holds): the member's tier
 * counts as one of its usergroups; each event with points (the log, each bonus) is a lot and a history entry,
 * and the tier may go up after them.
 */
export function applyLog(
  sql: SqlStorage,
  outbox: Outbox,
  command: LogCommand,
  now: number,
  profile: UserProfile | null,
  statsReady: boolean,
  policy: PointsPolicy,
): LogOutcome {
  const { idempotencyKey } = command;
  if (idempotencyKey !== null) {
    const prior = findIdempotencyRecord(sql, "log", idempotencyKey, now);
    if (prior) {
      if (prior.requestHash !== command.requestHash) return { kind: "idempotency_conflict" };
      return { kind: "logged", replayed: true, response: JSON.parse(prior.response) as EventLoggedEnvelope };
    }
  }
  if (command.kind === "refused") return { kind: "refused", refusal: command.refusal };
  const { definition, metadata } = command;
  const occurredAtMs = Date.parse(command.occurredAt);
  const recordedAt = new Date(now).toISOString();

  if (!profile) return { kind: "not_registered" };
  const tier = currentTier(sql, policy);
  const groups = tier === null ? profile.usergroups : [...profile.usergroups, tier];
  // A user token may not pick a richer usergroup for itself: refused before anything is written.
  if (command.fromUserToken) {
    const notHeld = usergroupsNotHeld(metadata, groups);
    if (notHeld.length > 0) return { kind: "usergroup_not_held", groups: notHeld };
  }
  const decision = decideReward({
    definition,
    metadata,
    registeredGroups: groups,
    occurredAt: command.occurredAt,
    usedInPeriod: (periodKey) => usedInPeriod(sql, definition.eventId, periodKey),
  });
  const event = inLedger(
    sql,
    buildLoggedEvent({ eventUid: crypto.randomUUID(), profile, definition, decision, metadata, occurredAt: command.occurredAt, recordedAt, idempotencyKey }),
  );

  if (decision.limitKey !== null) countRewardedLog(sql, definition.eventId, decision.limitKey);
  // A log counts for streaks, challenges and count leaderboards when its conditions held, even past the
  // event's limit: the user did the thing.
  const qualifies = decision.conditionReached;
  const streaks = advanceStreaks(sql, command.streaks, occurredAtMs, qualifies);
  const challenges = advanceChallenges(sql, command.challenges, occurredAtMs, metadata, qualifies, now);

  // Each completed challenge is its own event-log entry, after the log, with its own balance change.
  let balance = event.balanceAfter;
  const completions = challenges.completions.map(({ challenge, periodStart }) => {
    const completion = inLedger(
      sql,
      completionEvent({
        eventUid: crypto.randomUUID(),
        profile: { ...profile, balance },
        challenge,
        periodStart,
        triggeredBy: event.eventUid,
        occurredAt: command.occurredAt,
        recordedAt,
      }),
    );
    balance = completion.balanceAfter;
    return completion;
  });
  if (!Number.isSafeInteger(balance)) throw new LogRefused({ kind: "balance_overflow" });
  for (const earned of [event, ...completions]) {
    if (earned.points <= 0) continue;
    creditPoints(sql, {
      type: "earn",
      source: "earn",
      points: earned.points,
      balanceBefore: earned.balanceBefore,
      at: now,
      policy,
      reference: String(earned.ledgerId),
      reason: null,
      details: { eventId: earned.eventId },
    });
  }

  const standings = advanceLeaderboards(sql, command.leaderboards, occurredAtMs, { points: balance - profile.balance, qualifies }, now);
  const seq = recordChange(sql, balance);
  const message: LoggedEventMessage = statsReady
    ? {
        ...event,
        activity: recordActivity(sql, event.eventId, event.occurredAt),
        updates: { seq, streaks: reportStreaks(sql, seq, streaks.changed), standings },
      }
    : { ...event, updates: { seq, streaks: streaks.changed, standings } };
  // An event the queue cannot carry would never reach the log: refused, and everything above rolled back.
  const body = JSON.stringify(message);
  if (!fitsInBytes(body, MAX_QUEUE_MESSAGE_BYTES)) throw new LogRefused({ kind: "event_too_large" });
  outbox.add(message, now, body);
  for (const completion of completions) {
    // The completion shares the log's sequence number (its webhook events are ordered with the log's).
    const withSeq = { ...completion, seq };
    outbox.add(statsReady ? { ...withSeq, activity: recordActivity(sql, completion.eventId, completion.occurredAt) } : withSeq, now);
  }
  if (balance > profile.balance) tierAfterEarning(sql, outbox, { ...profile, balance }, policy, now);

  const response = eventLoggedEnvelope(definition, event, decision, balance, {
    streaks: streaks.results,
    challenges: challenges.results,
  });
  if (idempotencyKey !== null) rememberResponse(sql, "log", idempotencyKey, command.requestHash ?? "", JSON.stringify(response), now);
  return { kind: "logged", replayed: false, response };
}
