import type { FieldError } from "../api/errors";
import type { ConditionGroup, ConditionNode, EventDefinition, EventDefinitionInput, MetadataField } from "../api/types";
import type { ConditionOperator, LIMIT_PERIODS, LOYALTY_EVENT_TYPES, REWARD_TYPES } from "../../../src/domain/definition-vocabulary";
import { definitionProblems, eventIdProblems, type FieldProblem } from "../../../src/domain/definition-rules";

/**
 * The event form's state: what the inputs hold (text for numbers, so a half-typed value is kept as typed),
 * turned into the API's body by `draftToInput`.
 */
export type RewardRow = { key: number; group: string; amount: string };
export type ConditionLeafDraft = { kind: "leaf"; key: number; field: string; operator: ConditionOperator; value: string };
export type ConditionGroupDraft = { kind: "group"; key: number; type: "AND" | "OR"; conditions: ConditionDraft[] };
export type ConditionDraft = ConditionLeafDraft | ConditionGroupDraft;
export type MetadataFieldDraft = { key: number; name: string; type: MetadataField["type"]; required: boolean };

export type EventDraft = {
  eventId: string;
  title: string;
  description: string;
  status: "ACTIVE" | "INACTIVE";
  type: "STANDARD" | "TRANSACTION";
  rewardValueField: string;
  rewardType: (typeof REWARD_TYPES)[number];
  rewardCurrency: string;
  rewards: RewardRow[];
  limit: string;
  limitPeriod: (typeof LIMIT_PERIODS)[number];
  maximumReward: string;
  requiresApiKey: boolean;
  loyaltyEventType: "" | (typeof LOYALTY_EVENT_TYPES)[number];
  customerMessage: string;
  allowRewardIncrease: boolean;
  metadataFields: MetadataFieldDraft[];
  conditions: ConditionGroupDraft | null;
};

let nextKey = 0;
/** Keys for list items (rows, condition nodes), so editing one never re-mounts another. */
export const newKey = () => ++nextKey;

export const newLeaf = (): ConditionLeafDraft => ({ kind: "leaf", key: newKey(), field: "", operator: "equals", value: "" });
export const newGroup = (type: "AND" | "OR" = "AND"): ConditionGroupDraft => ({ kind: "group", key: newKey(), type, conditions: [newLeaf()] });

export const emptyDraft = (): EventDraft => ({
  eventId: "",
  title: "",
  description: "",
  status: "ACTIVE",
  type: "STANDARD",
  rewardValueField: "",
  rewardType: "LOYALTY_POINTS",
  rewardCurrency: "",
  rewards: [{ key: newKey(), group: "default", amount: "10" }],
  limit: "",
  limitPeriod: "lifetime",
  maximumReward: "",
  requiresApiKey: false,
  loyaltyEventType: "",
  customerMessage: "",
  allowRewardIncrease: false,
  metadataFields: [],
  conditions: null,
});

/**
 * A condition value as typed: JSON where it parses (`42`, `true`, `["EUR","USD"]`, `"42"`), else the text itself.
 * For `in`/`not_in`, a plain comma-separated list is read item by item. Empty means "no value".
 */
export function parseConditionValue(text: string, operator: ConditionOperator): unknown {
  const trimmed = text.trim();
  if (trimmed === "") return undefined;
  const scalar = (item: string): unknown => {
    try {
      return JSON.parse(item);
    } catch {
      return item;
    }
  };
  if ((operator === "in" || operator === "not_in") && !trimmed.startsWith("[")) return trimmed.split(",").map((item) => scalar(item.trim()));
  return scalar(trimmed);
}

/** The text a value is edited as; strings that would read as JSON are shown quoted so they stay strings. */
export function formatConditionValue(value: unknown): string {
  if (value === undefined) return "";
  if (typeof value === "string") {
    try {
      JSON.parse(value);
      return JSON.stringify(value);
    } catch {
      return value;
    }
  }
  return JSON.stringify(value);
}

function conditionToInput(draft: ConditionDraft): ConditionNode {
  if (draft.kind === "group") return { type: draft.type, conditions: draft.conditions.map(conditionToInput) };
  const value = parseConditionValue(draft.value, draft.operator);
  return value === undefined ? { field: draft.field.trim(), operator: draft.operator } : { field: draft.field.trim(), operator: draft.operator, value };
}

function conditionToDraft(node: ConditionNode): ConditionDraft {
  if ("field" in node) return { kind: "leaf", key: newKey(), field: node.field, operator: node.operator, value: formatConditionValue(node.value) };
  return { kind: "group", key: newKey(), type: node.type, conditions: node.conditions.map(conditionToDraft) };
}

/** The API's dotted path (`metadataFields.2.key`) for a problem the definition rules found. */
const asFieldError = ({ path, message }: FieldProblem): FieldError => ({ path: path.join("."), message });

/** The body of PUT /v1/admin/events/{eventId} the draft describes, and every problem the API would name in it. */
export function draftToInput(draft: EventDraft, creating: boolean): { input: EventDefinitionInput; problems: FieldError[] } {
  const problems: FieldError[] = creating ? eventIdProblems(draft.eventId.trim()).map(asFieldError) : [];
  /** A number as typed: undefined when left empty (where allowed); text that is no number is named at its path. */
  const numberAt = (path: string, text: string, { required = false } = {}): number | undefined => {
    const trimmed = text.trim();
    if (trimmed === "" && !required) return undefined;
    const value = Number(trimmed);
    if (trimmed !== "" && Number.isFinite(value)) return value;
    problems.push({ path, message: "must be a number" });
    return undefined;
  };
  const reward: Record<string, number> = {};
  const groups = new Set<string>();
  draft.rewards.forEach((row, i) => {
    const group = row.group.trim();
    if (groups.has(group)) problems.push({ path: `rewards.${i}.group`, message: `usergroup ${group} is listed twice` });
    groups.add(group);
    const amount = numberAt(`reward.${group}`, row.amount, { required: true });
    if (amount !== undefined) reward[group] = amount;
  });
  const monetary = draft.rewardType !== "LOYALTY_POINTS";
  const transaction = draft.type === "TRANSACTION";
  const limit = numberAt("limit", draft.limit);
  const maximumReward = numberAt("maximumReward", draft.maximumReward);
  const input: EventDefinitionInput = {
    title: draft.title.trim(),
    description: draft.description,
    status: draft.status,
    type: draft.type,
    reward,
    limitPeriod: draft.limitPeriod,
    metadataFields: draft.metadataFields.map((f) => ({ key: f.name.trim(), type: f.type, required: f.required })),
    requiresApiKey: draft.requiresApiKey,
    rewardType: draft.rewardType,
    allowRewardIncrease: draft.allowRewardIncrease,
    ...(transaction ? { rewardValueField: draft.rewardValueField.trim() } : {}),
    ...(monetary && draft.rewardCurrency.trim() !== "" ? { rewardCurrency: draft.rewardCurrency.trim() } : {}),
    ...(limit !== undefined ? { limit } : {}),
    ...(maximumReward !== undefined ? { maximumReward } : {}),
    ...(draft.loyaltyEventType ? { loyaltyEventType: draft.loyaltyEventType } : {}),
    ...(draft.customerMessage.trim() !== "" ? { customerMessage: draft.customerMessage } : {}),
    ...(draft.conditions ? { conditions: conditionToInput(draft.conditions) as ConditionGroup } : {}),
  };
  return { input, problems: [...problems, ...definitionProblems(input).map(asFieldError)] };
}

/** The form's state for an existing definition. */
export function definitionToDraft(definition: EventDefinition): EventDraft {
  const { reward } = definition;
  const groups = ["default", ...Object.keys(reward).filter((g) => g !== "default")];
  return {
    eventId: definition.eventId,
    title: definition.title,
    description: definition.description,
    status: definition.status,
    type: definition.type,
    rewardValueField: definition.rewardValueField ?? "",
    rewardType: definition.rewardType ?? "LOYALTY_POINTS",
    rewardCurrency: definition.rewardCurrency ?? "",
    rewards: groups.filter((g) => reward[g] !== undefined).map((group) => ({ key: newKey(), group, amount: String(reward[group]) })),
    limit: definition.limit === undefined ? "" : String(definition.limit),
    limitPeriod: definition.limitPeriod,
    maximumReward: definition.maximumReward === undefined ? "" : String(definition.maximumReward),
    requiresApiKey: definition.requiresApiKey,
    loyaltyEventType: definition.loyaltyEventType ?? "",
    customerMessage: definition.customerMessage ?? "",
    allowRewardIncrease: definition.allowRewardIncrease ?? false,
    metadataFields: definition.metadataFields.map((f) => ({ key: newKey(), name: f.key, type: f.type, required: f.required })),
    conditions: definition.conditions ? (conditionToDraft(definition.conditions) as ConditionGroupDraft) : null,
  };
}

/** The body that replaces a definition with only its status changed (activate / deactivate from the table). */
export function withStatus(definition: EventDefinition, status: "ACTIVE" | "INACTIVE"): EventDefinitionInput {
  return { ...draftToInput(definitionToDraft(definition), false).input, status };
}
