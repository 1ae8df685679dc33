import { readPath } from "./conditions";
import { COMPLETION_EVENT_PREFIX } from "./definition-vocabulary";
import type { ChallengeDefinition } from "./game-definitions";
import { MAX_TRANSACTION_VALUE } from "./limits";
import { grantedPointsEvent, type LoggedEvent } from "./logged-event";
import type { FieldError } from "./rewards";
import type { UserProfile } from "./user";

/** What one qualifying log adds to a challenge: 1 for count; for sum, `metadata[field]` when a positive finite number, else 0. */
export function challengeDelta(challenge: Pick<ChallengeDefinition, "metric" | "field">, metadata: Record<string, unknown>): number {
  if (challenge.metric === "count") return 1;
  const value = readPath(metadata, challenge.field ?? "");
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? value : 0;
}

/**
 * Metadata values a `sum` challenge listing the event may not add: above MAX_TRANSACTION_VALUE per log (like a
 * TRANSACTION value), so progress stays exact and finite. One error per field, naming `metadata.<field>`.
 */
export function challengeValueErrors(
  challenges: ReadonlyArray<Pick<ChallengeDefinition, "challengeId" | "metric" | "field">>,
  metadata: Record<string, unknown>,
): FieldError[] {
  const errors: FieldError[] = [];
  for (const challenge of challenges) {
    if (challenge.metric !== "sum" || !challenge.field) continue;
    const path = `metadata.${challenge.field}`;
    const value = readPath(metadata, challenge.field);
    if (typeof value === "number" && value > MAX_TRANSACTION_VALUE && !errors.some((e) => e.path === path)) {
      errors.push({ path, message: `must be at most ${MAX_TRANSACTION_VALUE} (summed by challenge ${challenge.challengeId})` });
    }
  }
  return errors;
}

/** Sums of decimals carry binary noise (0.1 + 0.2); progress within a billionth of the target reaches it. */
export const reachesTarget = (progress: number, target: number): boolean => progress >= target - 1e-9;

/** Progress as answers show it: rounded to 9 decimals, without the noise. */
export const shownProgress = (progress: number): number => Number(progress.toFixed(9));

/** The event id a completion is logged under; `:` is not allowed in definition ids, so it never collides. */
export const completionEventId = (challengeId: string): string => `${COMPLETION_EVENT_PREFIX}${challengeId}`;

/**
 * The event-log entry of a completed challenge: its bonus is a balance change like any other, so it gets its
 * own ledger entry and counts in the stats (under `challenge:<id>`), at the time of the log that completed it.
 */
export function completionEvent(input: {
  eventUid: string;
  profile: UserProfile;
  challenge: ChallengeDefinition;
  periodStart: string | null;
  triggeredBy: string;
  occurredAt: string;
  recordedAt: string;
}): LoggedEvent {
  const { challenge } = input;
  return grantedPointsEvent({
    eventUid: input.eventUid,
    profile: input.profile,
    eventId: completionEventId(challenge.challengeId),
    definitionVersion: challenge.version,
    loyaltyEventType: null,
    metadata: { challengeId: challenge.challengeId, periodStart: input.periodStart, triggeredBy: input.triggeredBy },
    occurredAt: input.occurredAt,
    recordedAt: input.recordedAt,
    points: challenge.rewardPoints,
  });
}
