import { z } from "@hono/zod-openapi";
import { evaluateConditions, readPath } from "./conditions";
import type { EventDefinition, MetadataField } from "./definition";
import { CONDITION_OPERATORS, type RewardType } from "./definition-vocabulary";
import { summarizeValue } from "./json";
import { MAX_CONDITION_REASONS, MAX_TRANSACTION_VALUE } from "./limits";
import { limitPeriodKey } from "./periods";

export type FieldError = { path: string; message: string };

function typeOfValue(value: unknown): MetadataField["type"] | "null" {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value as MetadataField["type"];
}

/** Checks metadata against the definition's `metadataFields` (presence and type) and, for TRANSACTION, the value field. */
export function validateMetadata(definition: EventDefinition, metadata: Record<string, unknown>): FieldError[] {
  const errors: FieldError[] = [];
  for (const field of definition.metadataFields) {
    const value = readPath(metadata, field.key);
    if (value === undefined || value === null) {
      if (field.required) errors.push({ path: `metadata.${field.key}`, message: `required (${field.type})` });
      continue;
    }
    const actual = typeOfValue(value);
    if (actual !== field.type) errors.push({ path: `metadata.${field.key}`, message: `must be ${field.type}, got ${actual}` });
  }
  if (definition.type === "TRANSACTION" && definition.rewardValueField) {
    const value = readPath(metadata, definition.rewardValueField);
    const path = `metadata.${definition.rewardValueField}`;
    if (typeof value !== "number" || !Number.isFinite(value)) {
      if (!errors.some((e) => e.path === path)) errors.push({ path, message: "required: a finite number (the transaction value)" });
    } else if (Math.abs(value) > MAX_TRANSACTION_VALUE) {
      errors.push({ path, message: `must be between -${MAX_TRANSACTION_VALUE} and ${MAX_TRANSACTION_VALUE}` });
    }
  }
  return errors;
}

/**
 * The usergroup whose reward applies: the first of `metadata.usergroup` (array or string) that the reward
 * defines, else the first of the registered user's groups that it defines, else `default`.
 */
export function chooseUserGroup(reward: Record<string, number>, metadata: Record<string, unknown>, registeredGroups: readonly string[]): string {
  const requested = metadata.usergroup;
  const fromMetadata = Array.isArray(requested) ? requested : typeof requested === "string" ? [requested] : [];
  for (const group of [...fromMetadata, ...registeredGroups]) {
    if (typeof group === "string" && Object.hasOwn(reward, group)) return group;
  }
  return "default";
}

/**
 * The groups `metadata.usergroup` (array or string) names that the user is neither registered in nor
 * `default`. A user token may select only its own groups; server credentials may select any.
 */
export function usergroupsNotHeld(metadata: Record<string, unknown>, registeredGroups: readonly string[]): string[] {
  const requested = metadata.usergroup;
  const named = Array.isArray(requested) ? requested : typeof requested === "string" ? [requested] : [];
  const held = new Set(["default", ...registeredGroups]);
  return [...new Set(named.filter((group): group is string => typeof group === "string" && !held.has(group)))];
}

/**
 * Rounds half up (49.5 -> 50). The fraction is first cut to 9 decimals to remove binary floating-point
 * noise (1.005 * 100 is 100.49999999999999 and rounds to 101); the whole part is never touched.
 */
export function roundHalfUp(value: number): number {
  const whole = Math.trunc(value);
  const fraction = Number((value - whole).toFixed(9));
  return whole + Math.floor(fraction + 0.5);
}

/** Why a log awarded fewer points than its reward rate: failed condition leaves, the limit, or the cap. */
export const ReasonSchema = z
  .discriminatedUnion("code", [
    z.object({
      code: z.literal("CONDITION_NOT_MET"),
      field: z.string(),
      operator: z.enum(CONDITION_OPERATORS),
      expected: z.unknown().optional(),
      actual: z.unknown().optional(),
    }),
    z.object({ code: z.literal("LIMIT_REACHED"), limit: z.number().int(), limitPeriod: z.string(), periodKey: z.string() }),
    z.object({ code: z.literal("MAXIMUM_REWARD_APPLIED"), uncappedPoints: z.number(), maximumReward: z.number() }),
  ])
  .openapi("Reason");
export type Reason = z.infer<typeof ReasonSchema>;

export type RewardDetails = {
  rate: number;
  value: number | null;
  uncappedPoints: number;
  maximumReward: number | null;
};

export type RewardDecision = {
  conditionReached: boolean;
  limitReached: boolean;
  userGroupId: string;
  /** Points added to the balance (0 for monetary rewards). */
  points: number;
  /** What the log awarded in its reward type: points, or money rounded to 2 decimals. */
  rewardType: RewardType;
  rewardAmount: number;
  reasons: Reason[];
  reward: RewardDetails;
  /** The limit counter this log increments, or null when it is not a rewarded log or the event has no limit. */
  limitKey: string | null;
};

export type DecisionInput = {
  definition: EventDefinition;
  metadata: Record<string, unknown>;
  registeredGroups: readonly string[];
  occurredAt: string;
  /** Rewarded logs already counted in the period `occurredAt` falls in. */
  usedInPeriod: (limitKey: string) => number;
};

/** Money is rounded half up to cents. */
const roundToCents = (amount: number): number => roundHalfUp(amount * 100) / 100;

/**
 * The uncapped amount a log earns in its reward type: points (STANDARD: the rate; TRANSACTION: value x rate,
 * rounded half up), a PERCENTAGE of the value or a FLAT_AMOUNT (both rounded to cents); never negative.
 */
function uncappedAmount(rewardType: RewardType, rate: number, value: number | null): number {
  switch (rewardType) {
    case "LOYALTY_POINTS":
      return Math.max(0, roundHalfUp(value === null ? rate : value * rate));
    case "PERCENTAGE":
      return Math.max(0, roundToCents(((value ?? 0) * rate) / 100));
    case "FLAT_AMOUNT":
      return Math.max(0, roundToCents(rate));
  }
}

/** Decides what one log awards. Pure: the caller supplies the user's counters and commits the outcome. */
export function decideReward(input: DecisionInput): RewardDecision {
  const { definition, metadata } = input;
  const userGroupId = chooseUserGroup(definition.reward, metadata, input.registeredGroups);
  const rate = definition.reward[userGroupId] ?? 0;
  const value = definition.type === "TRANSACTION" ? (readPath(metadata, definition.rewardValueField ?? "") as number) : null;
  const rewardType = definition.rewardType ?? "LOYALTY_POINTS";
  const uncappedPoints = uncappedAmount(rewardType, rate, value);
  const reward: RewardDetails = { rate, value, uncappedPoints, maximumReward: definition.maximumReward ?? null };
  const base = { userGroupId, reward, rewardType, limitReached: false, points: 0, rewardAmount: 0, limitKey: null };

  const conditions = evaluateConditions(definition.conditions, metadata);
  if (!conditions.reached) {
    const reasons: Reason[] = conditions.failed.slice(0, MAX_CONDITION_REASONS).map((leaf) => ({
      code: "CONDITION_NOT_MET",
      field: leaf.field,
      operator: leaf.operator,
      expected: summarizeValue(leaf.value),
      actual: summarizeValue(readPath(metadata, leaf.field)),
    }));
    return { ...base, conditionReached: false, reasons };
  }

  const limitKey = definition.limit === undefined ? null : limitPeriodKey(definition.limitPeriod, input.occurredAt);
  if (limitKey !== null && definition.limit !== undefined && input.usedInPeriod(limitKey) >= definition.limit) {
    const reason: Reason = { code: "LIMIT_REACHED", limit: definition.limit, limitPeriod: definition.limitPeriod, periodKey: limitKey };
    return { ...base, conditionReached: true, limitReached: true, reasons: [reason] };
  }

  const cap = definition.maximumReward;
  const rewardAmount = cap === undefined ? uncappedPoints : Math.min(uncappedPoints, cap);
  const reasons: Reason[] = cap !== undefined && uncappedPoints > cap ? [{ code: "MAXIMUM_REWARD_APPLIED", uncappedPoints, maximumReward: cap }] : [];
  const points = rewardType === "LOYALTY_POINTS" ? rewardAmount : 0;
  return { ...base, conditionReached: true, points, rewardAmount, reasons, limitKey };
}
