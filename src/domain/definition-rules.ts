/**
 * The rules of an event definition beyond its JSON types: the bounds of its fields, the value each condition
 * operator takes, the size of the condition tree and the relations between fields. Free of zod, so one copy
 * serves both EventDefinitionBodySchema (src/domain/definition.ts declares these bounds with these messages and
 * calls these checks) and the dashboard's event form, which names every problem at its field before sending.
 * Paths and messages are the API's.
 */
import {
  COMPLETION_EVENT_PREFIX,
  COMPLETION_PREFIX_RULE,
  EVENT_ID_PATTERN,
  EVENT_ID_RULE,
  type ConditionOperator,
  type RewardType,
} from "./definition-vocabulary";
import { MAX_CONDITION_DEPTH, MAX_CONDITION_GROUP_SIZE, MAX_CONDITION_NODES, MAX_REWARD_GROUPS, MAX_REWARD_RATE } from "./limits";

/** A problem with one field, at its path as zod names it (`["metadataFields", 2, "key"]`); answers join it with dots. */
export type FieldProblem = { path: Array<string | number>; message: string };

/**
 * How a broken bound is worded. These are zod's own texts, and the schema passes them to zod explicitly, so the
 * API's answers read as they always did and the form says the same without zod.
 */
export const boundMessages = {
  tooShort: (min: number) => `Too small: expected string to have >=${min} characters`,
  tooLong: (max: number) => `Too big: expected string to have <=${max} characters`,
  tooManyItems: (max: number) => `Too big: expected array to have <=${max} items`,
  below: (min: number) => `Too small: expected number to be >=${min}`,
  above: (max: number) => `Too big: expected number to be <=${max}`,
  notPositive: "Too small: expected number to be >0",
  notWhole: "Invalid input: expected int, received number",
};

export type TextBounds = { min: number; max: number };

/**
 * Lengths of a definition's strings. A usergroup is a key of `reward`: the API names a bad one at its path with
 * zod's "Invalid key in record", the form with the reason.
 */
export const TEXT_BOUNDS = {
  title: { min: 1, max: 200 },
  description: { min: 0, max: 2000 },
  usergroup: { min: 1, max: 100 },
  rewardValueField: { min: 1, max: 200 },
  customerMessage: { min: 0, max: 500 },
  metadataKey: { min: 1, max: 200 },
  conditionField: { min: 1, max: 200 },
} satisfies Record<string, TextBounds>;

export const MAX_METADATA_FIELDS = 100;
export const CURRENCY_PATTERN = /^[A-Z]{3}$/;
export const CURRENCY_RULE = "must be an ISO 4217 code such as EUR";
export const TOO_MANY_USERGROUPS = `must name at most ${MAX_REWARD_GROUPS} usergroups`;

/** A leaf of a condition tree and a group of leaves and groups, as far as the rules read them. */
type ConditionLeafShape = { field: string; operator: ConditionOperator; value?: unknown };
type ConditionGroupShape = { type: string; conditions: ReadonlyArray<ConditionLeafShape | ConditionGroupShape> };

/**
 * What the rules read of a definition body: the schema's parsed document and the form's body both fit. Numbers
 * are finite, as JSON's are.
 */
export type DefinitionBodyShape = {
  title: string;
  description?: string;
  type?: "STANDARD" | "TRANSACTION";
  reward: Record<string, number>;
  rewardValueField?: string;
  limit?: number;
  maximumReward?: number;
  conditions?: ConditionGroupShape;
  metadataFields?: ReadonlyArray<{ key: string }>;
  rewardType?: RewardType;
  rewardCurrency?: string;
  customerMessage?: string;
};

/** What is wrong with a string's length; null when it fits. */
export function textProblem(text: string, { min, max }: TextBounds): string | null {
  if (text.length < min) return boundMessages.tooShort(min);
  if (text.length > max) return boundMessages.tooLong(max);
  return null;
}

/** Problems with an event id as the path of `PUT /v1/admin/events/{eventId}` takes it. */
export function eventIdProblems(eventId: string): FieldProblem[] {
  if (!EVENT_ID_PATTERN.test(eventId)) return [{ path: ["eventId"], message: EVENT_ID_RULE }];
  if (eventId.startsWith(COMPLETION_EVENT_PREFIX)) return [{ path: ["eventId"], message: COMPLETION_PREFIX_RULE }];
  return [];
}

/** What is wrong with a leaf's value for its operator; null when it fits. */
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

/**
 * Group nesting and node count of a condition tree, measured without recursion so that hostile input (a tree
 * thousands of groups deep) is refused before anything recursive sees it.
 */
export function conditionTreeSize(tree: unknown, stopAt = { depth: MAX_CONDITION_DEPTH, nodes: MAX_CONDITION_NODES }) {
  let depth = 0;
  let nodes = 0;
  const stack: Array<[unknown, number]> = [[tree, 1]];
  while (stack.length > 0 && depth <= stopAt.depth && nodes <= stopAt.nodes) {
    const [node, level] = stack.pop()!;
    nodes += 1;
    const children = node !== null && typeof node === "object" ? (node as { conditions?: unknown }).conditions : undefined;
    if (!Array.isArray(children)) continue;
    depth = Math.max(depth, level);
    for (const child of children) stack.push([child, level + 1]);
  }
  return { depth, nodes };
}

/** Whether a condition tree is too deep or too large (it is then named as a whole); null when within bounds. */
export function conditionTreeSizeProblem(tree: unknown): string | null {
  const { depth, nodes } = conditionTreeSize(tree);
  if (depth > MAX_CONDITION_DEPTH) return `must not nest deeper than ${MAX_CONDITION_DEPTH} groups`;
  if (nodes > MAX_CONDITION_NODES) return `must have at most ${MAX_CONDITION_NODES} conditions and groups`;
  return null;
}

const isLeaf = (node: ConditionLeafShape | ConditionGroupShape): node is ConditionLeafShape => "field" in node;

function conditionTreeProblems(tree: ConditionGroupShape): FieldProblem[] {
  const sizeProblem = conditionTreeSizeProblem(tree);
  if (sizeProblem) return [{ path: ["conditions"], message: sizeProblem }];
  const problems: FieldProblem[] = [];
  const visit = (group: ConditionGroupShape, path: Array<string | number>) => {
    if (group.conditions.length > MAX_CONDITION_GROUP_SIZE) {
      problems.push({ path: [...path, "conditions"], message: boundMessages.tooManyItems(MAX_CONDITION_GROUP_SIZE) });
    }
    group.conditions.forEach((node, i) => {
      const at = [...path, "conditions", i];
      if (!isLeaf(node)) {
        visit(node, at);
        return;
      }
      const fieldProblem = textProblem(node.field, TEXT_BOUNDS.conditionField);
      if (fieldProblem) problems.push({ path: [...at, "field"], message: fieldProblem });
      const valueProblem = operatorValueProblem(node.operator, node.value);
      if (valueProblem) problems.push({ path: [...at, "value"], message: valueProblem });
    });
  };
  visit(tree, ["conditions"]);
  return problems;
}

/** The rules that relate fields to each other; the schema checks each field on its own before these. */
export function definitionRelationProblems(doc: DefinitionBodyShape): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const type = doc.type ?? "STANDARD";
  const rewardType = doc.rewardType ?? "LOYALTY_POINTS";
  if (doc.reward.default === undefined) problems.push({ path: ["reward", "default"], message: "a default reward is required" });
  if (type === "TRANSACTION" && !doc.rewardValueField) problems.push({ path: ["rewardValueField"], message: "required when type is TRANSACTION" });
  if (type === "STANDARD" && doc.rewardValueField) problems.push({ path: ["rewardValueField"], message: "only allowed when type is TRANSACTION" });
  if (rewardType === "PERCENTAGE" && type !== "TRANSACTION") {
    problems.push({ path: ["rewardType"], message: "PERCENTAGE needs type TRANSACTION (a value to take a percentage of)" });
  }
  if (rewardType === "FLAT_AMOUNT" && !doc.rewardCurrency) problems.push({ path: ["rewardCurrency"], message: "required when rewardType is FLAT_AMOUNT" });
  if (rewardType === "LOYALTY_POINTS" && doc.rewardCurrency) {
    problems.push({ path: ["rewardCurrency"], message: "only for monetary rewards (PERCENTAGE, FLAT_AMOUNT)" });
  }
  const seen = new Set<string>();
  (doc.metadataFields ?? []).forEach((field, i) => {
    if (seen.has(field.key)) problems.push({ path: ["metadataFields", i, "key"], message: "duplicate key" });
    seen.add(field.key);
  });
  return problems;
}

/**
 * Every problem the API would name in this body, for a caller without the schema (the dashboard): each field's
 * bounds in the schema's order, then the relations. [] when the API would accept it.
 */
export function definitionProblems(doc: DefinitionBodyShape): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const text = (path: FieldProblem["path"], value: string | undefined, bounds: TextBounds) => {
    const message = value === undefined ? null : textProblem(value, bounds);
    if (message) problems.push({ path, message });
  };
  text(["title"], doc.title, TEXT_BOUNDS.title);
  text(["description"], doc.description, TEXT_BOUNDS.description);
  const groups = Object.entries(doc.reward);
  for (const [group, rate] of groups) {
    text(["reward", group], group, TEXT_BOUNDS.usergroup);
    if (rate < 0) problems.push({ path: ["reward", group], message: boundMessages.below(0) });
    else if (rate > MAX_REWARD_RATE) problems.push({ path: ["reward", group], message: boundMessages.above(MAX_REWARD_RATE) });
  }
  if (groups.length > MAX_REWARD_GROUPS) problems.push({ path: ["reward"], message: TOO_MANY_USERGROUPS });
  text(["rewardValueField"], doc.rewardValueField, TEXT_BOUNDS.rewardValueField);
  if (doc.limit !== undefined) {
    if (!Number.isInteger(doc.limit)) problems.push({ path: ["limit"], message: boundMessages.notWhole });
    else if (doc.limit <= 0) problems.push({ path: ["limit"], message: boundMessages.notPositive });
  }
  if (doc.maximumReward !== undefined) {
    if (!Number.isInteger(doc.maximumReward)) problems.push({ path: ["maximumReward"], message: boundMessages.notWhole });
    else if (doc.maximumReward < 0) problems.push({ path: ["maximumReward"], message: boundMessages.below(0) });
  }
  if (doc.conditions !== undefined) problems.push(...conditionTreeProblems(doc.conditions));
  const metadataFields = doc.metadataFields ?? [];
  metadataFields.forEach((field, i) => {
    text(["metadataFields", i, "key"], field.key, TEXT_BOUNDS.metadataKey);
  });
  if (metadataFields.length > MAX_METADATA_FIELDS) problems.push({ path: ["metadataFields"], message: boundMessages.tooManyItems(MAX_METADATA_FIELDS) });
  if (doc.rewardCurrency !== undefined && !CURRENCY_PATTERN.test(doc.rewardCurrency)) problems.push({ path: ["rewardCurrency"], message: CURRENCY_RULE });
  text(["customerMessage"], doc.customerMessage, TEXT_BOUNDS.customerMessage);
  return [...problems, ...definitionRelationProblems(doc)];
}
