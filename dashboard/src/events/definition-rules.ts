import {
  COMPLETION_EVENT_PREFIX,
  COMPLETION_PREFIX_RULE,
  EVENT_ID_PATTERN,
  EVENT_ID_RULE,
  type ConditionOperator,
} from "../../../src/domain/definition-vocabulary";
import { MAX_CONDITION_DEPTH, MAX_CONDITION_GROUP_SIZE, MAX_CONDITION_NODES, MAX_REWARD_RATE } from "../../../src/domain/limits";
import type { FieldError } from "../api/errors";
import type { ConditionGroup, ConditionLeaf, ConditionNode, EventDefinitionInput } from "../api/types";

/**
 * The checks `PUT /v1/admin/events/{eventId}` makes (src/domain/definition.ts), run in the browser so the form
 * names each problem at its field before sending; the paths are the API's (`reward.default`,
 * `conditions.conditions.0.value`). test/domain/event-definition-form.test.ts holds both to the same answers.
 * The API stays the authority: whatever it still refuses is shown at the field its answer names.
 */

/** Problems with an event id as the path of the PUT takes it. */
export function eventIdProblems(eventId: string): FieldError[] {
  if (!EVENT_ID_PATTERN.test(eventId)) return [{ path: "eventId", message: EVENT_ID_RULE }];
  if (eventId.startsWith(COMPLETION_EVENT_PREFIX)) return [{ path: "eventId", message: COMPLETION_PREFIX_RULE }];
  return [];
}

const isLeaf = (node: ConditionNode): node is ConditionLeaf => "field" in node;

/** What kind of value an operator takes, for the leaf's check and the builder's hint. */
export function operatorValueProblem(operator: ConditionOperator, value: unknown): string | null {
  if ((operator === "in" || operator === "not_in") && !Array.isArray(value)) return `${operator} needs an array value`;
  if (operator.startsWith("greater_than") || operator.startsWith("less_than")) {
    if (typeof value !== "number" && typeof value !== "string") return `${operator} needs a number or string value`;
  }
  if (operator === "starts_with" && typeof value !== "string") return "starts_with needs a string value";
  if (operator === "exists" && value !== undefined && typeof value !== "boolean") return "exists takes an optional boolean value";
  if ((operator === "equals" || operator === "not_equals" || operator === "contains") && value === undefined) return `${operator} needs a value`;
  return null;
}

function conditionTreeProblems(tree: ConditionGroup): FieldError[] {
  const problems: FieldError[] = [];
  let nodes = 0;
  let deepest = 0;
  const visit = (group: ConditionGroup, path: string, depth: number) => {
    nodes += 1;
    deepest = Math.max(deepest, depth);
    if (group.conditions.length > MAX_CONDITION_GROUP_SIZE) problems.push({ path: `${path}.conditions`, message: `Too big: expected array to have <=${MAX_CONDITION_GROUP_SIZE} items` });
    group.conditions.forEach((node, i) => {
      const at = `${path}.conditions.${i}`;
      if (!isLeaf(node)) return visit(node, at, depth + 1);
      nodes += 1;
      if (node.field.length < 1) problems.push({ path: `${at}.field`, message: "Too small: expected string to have >=1 characters" });
      if (node.field.length > 200) problems.push({ path: `${at}.field`, message: "Too big: expected string to have <=200 characters" });
      const valueProblem = operatorValueProblem(node.operator, node.value);
      if (valueProblem) problems.push({ path: `${at}.value`, message: valueProblem });
    });
  };
  visit(tree, "conditions", 1);
  if (deepest > MAX_CONDITION_DEPTH) return [{ path: "conditions", message: `must not nest deeper than ${MAX_CONDITION_DEPTH} groups` }];
  if (nodes > MAX_CONDITION_NODES) return [{ path: "conditions", message: `must have at most ${MAX_CONDITION_NODES} conditions and groups` }];
  return problems;
}

const lengthProblem = (path: string, value: string | undefined, min: number, max: number): FieldError[] => {
  if (value === undefined) return [];
  if (value.length < min) return [{ path, message: `Too small: expected string to have >=${min} characters` }];
  if (value.length > max) return [{ path, message: `Too big: expected string to have <=${max} characters` }];
  return [];
};

/** Every problem the API would name for this body, at the API's paths; [] when it would be accepted. */
export function definitionProblems(doc: EventDefinitionInput): FieldError[] {
  const problems: FieldError[] = [
    ...lengthProblem("title", doc.title, 1, 200),
    ...lengthProblem("description", doc.description, 0, 2000),
    ...lengthProblem("rewardValueField", doc.rewardValueField, 1, 200),
    ...lengthProblem("customerMessage", doc.customerMessage, 0, 500),
  ];
  for (const [group, rate] of Object.entries(doc.reward)) {
    problems.push(...lengthProblem(`reward.${group}`, group, 1, 100));
    if (!Number.isFinite(rate)) problems.push({ path: `reward.${group}`, message: "must be a number" });
    else if (rate < 0) problems.push({ path: `reward.${group}`, message: "Too small: expected number to be >=0" });
    else if (rate > MAX_REWARD_RATE) problems.push({ path: `reward.${group}`, message: `Too big: expected number to be <=${MAX_REWARD_RATE}` });
  }
  if (doc.limit !== undefined && !(Number.isInteger(doc.limit) && doc.limit > 0)) problems.push({ path: "limit", message: "must be a whole number above 0" });
  if (doc.maximumReward !== undefined && !(Number.isInteger(doc.maximumReward) && doc.maximumReward >= 0)) {
    problems.push({ path: "maximumReward", message: "must be a whole number, 0 or more" });
  }
  if (doc.rewardCurrency !== undefined && !/^[A-Z]{3}$/.test(doc.rewardCurrency)) {
    problems.push({ path: "rewardCurrency", message: "must be an ISO 4217 code such as EUR" });
  }
  if (doc.conditions !== undefined) problems.push(...conditionTreeProblems(doc.conditions));
  const metadataFields = doc.metadataFields ?? [];
  if (metadataFields.length > 100) problems.push({ path: "metadataFields", message: "Too big: expected array to have <=100 items" });
  metadataFields.forEach((field, i) => problems.push(...lengthProblem(`metadataFields.${i}.key`, field.key, 1, 200)));
  // The relations between fields.
  if (doc.reward.default === undefined) problems.push({ path: "reward.default", message: "a default reward is required" });
  const type = doc.type ?? "STANDARD";
  if (type === "TRANSACTION" && !doc.rewardValueField) problems.push({ path: "rewardValueField", message: "required when type is TRANSACTION" });
  if (type === "STANDARD" && doc.rewardValueField) problems.push({ path: "rewardValueField", message: "only allowed when type is TRANSACTION" });
  if (doc.rewardType === "PERCENTAGE" && type !== "TRANSACTION") {
    problems.push({ path: "rewardType", message: "PERCENTAGE needs type TRANSACTION (a value to take a percentage of)" });
  }
  if (doc.rewardType === "FLAT_AMOUNT" && !doc.rewardCurrency) problems.push({ path: "rewardCurrency", message: "required when rewardType is FLAT_AMOUNT" });
  if ((doc.rewardType ?? "LOYALTY_POINTS") === "LOYALTY_POINTS" && doc.rewardCurrency) {
    problems.push({ path: "rewardCurrency", message: "only for monetary rewards (PERCENTAGE, FLAT_AMOUNT)" });
  }
  const seen = new Set<string>();
  metadataFields.forEach((field, i) => {
    if (seen.has(field.key)) problems.push({ path: `metadataFields.${i}.key`, message: "duplicate key" });
    seen.add(field.key);
  });
  return problems;
}
