/**
 * The fixed vocabulary of event definitions: enumerations and the id pattern. Free of imports, so the dashboard
 * bundles the same lists its event form offers and checks (with src/domain/definition-rules.ts).
 */

/** The operators a condition leaf may use. */
export const CONDITION_OPERATORS = [
  "equals",
  "not_equals",
  "greater_than",
  "greater_than_or_equal",
  "less_than",
  "less_than_or_equal",
  "in",
  "not_in",
  "contains",
  "starts_with",
  "exists",
] as const;
export type ConditionOperator = (typeof CONDITION_OPERATORS)[number];

export const DEFINITION_STATUSES = ["ACTIVE", "INACTIVE"] as const;
export const EVENT_TYPES = ["STANDARD", "TRANSACTION"] as const;
export const METADATA_FIELD_TYPES = ["string", "number", "boolean", "array", "object"] as const;
export const LOYALTY_EVENT_TYPES = ["CUSTOMER_CARD_DISPLAYED", "TRANSACTION_ASSESSMENT", "CARD_ASSIGNMENT"] as const;
export const REWARD_TYPES = ["LOYALTY_POINTS", "PERCENTAGE", "FLAT_AMOUNT"] as const;
export type RewardType = (typeof REWARD_TYPES)[number];
export const LIMIT_PERIODS = ["lifetime", "day", "week", "month"] as const;
export type LimitPeriod = (typeof LIMIT_PERIODS)[number];

export const EVENT_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;
export const EVENT_ID_RULE = "must be 1-128 characters of letters, digits, _ . : -";
/** Completed challenges are logged as `challenge:<challengeId>`, so no definition may take that prefix. */
export const COMPLETION_EVENT_PREFIX = "challenge:";
export const COMPLETION_PREFIX_RULE = `the prefix ${COMPLETION_EVENT_PREFIX} is reserved for challenge completions`;
