import type { VersionedDefinition } from "./definition";
import type { RewardType } from "./definition-vocabulary";
import type { ChallengeDefinition, LeaderboardDefinition, StreakDefinition } from "./game-definitions";
import type { EventLoggedEnvelope } from "./logged-event";
import type { PointsPolicy } from "./points-lifecycle";
import type { FieldError } from "./rewards";

/** Why the Worker refused a log because of the event's definition. */
export type Refusal =
  | { code: "unknown_event"; eventId: string }
  | { code: "inactive_event"; eventId: string }
  | { code: "invalid_metadata"; errors: FieldError[] };

type IdempotencyFields = {
  idempotencyKey: string | null;
  /** Hash of the request body, compared when an idempotency key is reused. */
  requestHash: string | null;
};

/** One request item for the user's object, in request order. */
export type LogCommand =
  | ({
      kind: "log";
      definition: VersionedDefinition;
      metadata: Record<string, unknown>;
      occurredAt: string;
      /** The active streaks and challenges that list the event. */
      streaks: StreakDefinition[];
      challenges: ChallengeDefinition[];
      /** The active count leaderboards that list the event, and every active points leaderboard. */
      leaderboards: LeaderboardDefinition[];
      /** A user token sent it: `metadata.usergroup` may then name only the user's own groups or `default`. */
      fromUserToken: boolean;
      /** The project's points policy (expiry, zone, tier ladder) from its catalogue; absent: NO_POINTS_POLICY. */
      policy?: PointsPolicy;
    } & IdempotencyFields)
  /**
   * A request the Worker refused because of the event's definition. With an idempotency key it still goes
   * to the user's object: a retry of a request logged before the definition changed gets its first answer;
   * otherwise the refusal stands.
   */
  | ({ kind: "refused"; refusal: Refusal } & IdempotencyFields);

/** What the user's object answers for one command; src/http/user-object-errors.ts maps it to HTTP. */
export type LogOutcome =
  | { kind: "logged"; replayed: boolean; response: EventLoggedEnvelope }
  | { kind: "refused"; refusal: Refusal }
  | { kind: "not_registered" }
  | { kind: "idempotency_conflict" }
  /** A user token's `metadata.usergroup` named groups the user is not in (nothing was written). */
  | { kind: "usergroup_not_held"; groups: string[] }
  | { kind: "balance_overflow" }
  /** The logged event would not fit a queue message (only possible with very large metadata). */
  | { kind: "event_too_large" }
  /** The user's ledger holds no more entries (2^24 - 1; see LEDGER_ID_SPAN in ./ledger.ts). */
  | { kind: "ledger_full" };

/** An outcome, or: the user's object could not be reached (its items may be retried with their idempotency keys). */
export type DispatchOutcome = LogOutcome | { kind: "unavailable" };

/** For a user nobody registered nothing was ever logged, so there is nothing to replay: a refusal stands, else 404. */
export const unregisteredOutcome = (command: LogCommand): LogOutcome =>
  command.kind === "refused" ? { kind: "refused", refusal: command.refusal } : { kind: "not_registered" };

/** A reward adjustment for the user's object: the event's reward becomes `newAmount` (see POST .../adjustments). */
export type AdjustCommand = IdempotencyFields & {
  eventUid: string;
  occurredAt: string;
  rewardType: RewardType;
  /** The reward as logged; the object holds the current amount once the event was adjusted. */
  originalAmount: number;
  newAmount: number;
  reason: string;
  allowNegativeBalance: boolean;
  /** The active points leaderboards: an adjustment of points moves them in the event's period. */
  pointsBoards: LeaderboardDefinition[];
  /** The project's points policy, as with a log; absent: NO_POINTS_POLICY. */
  policy?: PointsPolicy;
};

export type AdjustmentResult = { eventUid: string; previousAmount: number; newAmount: number; pointsDelta: number; balance: number; adjustedAt: string };

export type AdjustOutcome =
  | { kind: "adjusted"; replayed: boolean; result: AdjustmentResult }
  | { kind: "not_registered" }
  | { kind: "idempotency_conflict" }
  | { kind: "negative_balance"; balance: number; pointsDelta: number }
  | { kind: "balance_overflow" };
