import type { LogCommand, LogOutcome } from "../domain/log-command";
import { buildLoggedEvent, eventLoggedEnvelope, type EventLoggedEnvelope } from "../domain/logged-event";
import { utf8Bytes } from "../domain/json";
import { MAX_QUEUE_MESSAGE_BYTES } from "../domain/limits";
import { decideReward } from "../domain/rewards";
import { findIdempotencyRecord, rememberResponse } from "./storage/idempotency";
import { countRewardedLog, usedInPeriod } from "./storage/limit-counters";
import type { Outbox } from "./storage/outbox";
import { nextSeq, readProfile, writeBalance } from "./storage/profile";
import { advanceStreaks } from "./streak-progress";

/**
 * Applies one command to the user's storage; the caller runs it in a transaction. Order: an idempotency
 * replay or conflict, a refusal from the Worker, then the decision (src/domain) and its writes: limit
 * counter, balance, outbox row and idempotency record.
 */
export function applyLog(sql: SqlStorage, outbox: Outbox, command: LogCommand, now: number): LogOutcome {
  const { idempotencyKey } = command;
  if (idempotencyKey !== null) {
    const prior = findIdempotencyRecord(sql, idempotencyKey, now);
    if (prior) {
      if (prior.requestHash !== command.requestHash) return { kind: "idempotency_conflict" };
      return { kind: "logged", replayed: true, response: JSON.parse(prior.response) as EventLoggedEnvelope };
    }
  }
  if (command.kind === "refused") return { kind: "refused", refusal: command.refusal };
  const { definition, metadata } = command;
  const occurredAtMs = Date.parse(command.occurredAt);

  const profile = readProfile(sql);
  if (!profile) return { kind: "not_registered" };
  const decision = decideReward({
    definition,
    metadata,
    registeredGroups: profile.usergroups,
    occurredAt: command.occurredAt,
    usedInPeriod: (periodKey) => usedInPeriod(sql, definition.eventId, periodKey),
  });
  const balanceAfter = profile.balance + decision.points;
  if (!Number.isSafeInteger(balanceAfter)) return { kind: "balance_overflow" };
  const event = buildLoggedEvent({
    eventUid: crypto.randomUUID(),
    profile,
    definition,
    decision,
    metadata,
    occurredAt: command.occurredAt,
    recordedAt: new Date(now).toISOString(),
    idempotencyKey,
  });
  // Checked before anything is written: an event the queue cannot carry would never reach the log.
  if (utf8Bytes(JSON.stringify(event)) > MAX_QUEUE_MESSAGE_BYTES) return { kind: "event_too_large" };

  if (decision.limitKey !== null) countRewardedLog(sql, definition.eventId, decision.limitKey);
  if (decision.points !== 0) writeBalance(sql, balanceAfter);
  // A log counts for streaks when its conditions held, even past the event's limit: the user did the thing.
  const streaks = advanceStreaks(sql, command.streaks, occurredAtMs, decision.conditionReached);
  outbox.add({ ...event, updates: { seq: nextSeq(sql), streaks: streaks.changed } }, now);
  const response = eventLoggedEnvelope(definition, profile.userId, metadata, decision, balanceAfter, { streaks: streaks.results });
  if (idempotencyKey !== null) rememberResponse(sql, idempotencyKey, command.requestHash ?? "", JSON.stringify(response), now);
  return { kind: "logged", replayed: false, response };
}
