import { z } from "@hono/zod-openapi";
import { jsonDepth } from "./json";
import {
  CONDITION_OPERATORS,
  EVENT_ID_PATTERN,
  EVENT_ID_RULE,
  LIMIT_PERIODS,
  LOYALTY_EVENT_TYPES,
  METADATA_FIELD_TYPES,
  REWARD_TYPES,
} from "./definition-vocabulary";
import { MAX_CONDITION_DEPTH, MAX_CONDITION_GROUP_SIZE, MAX_CONDITION_NODES, MAX_JSON_DEPTH, MAX_REWARD_GROUPS, MAX_REWARD_RATE } from "./limits";


export const ConditionLeafSchema = z
  .strictObject({
    field: z.string().min(1).max(200).describe("Metadata key; dotted paths like `cart.total` reach into objects"),
    operator: z.enum(CONDITION_OPERATORS),
    value: z
      .unknown()
      .optional()
      .refine((value) => jsonDepth(value) <= MAX_JSON_DEPTH, `must not nest deeper than ${MAX_JSON_DEPTH} levels`),
  })
  .superRefine((leaf, ctx) => {
    const { operator, value } = leaf;
    const fail = (message: string) => ctx.addIssue({ code: "custom", path: ["value"], message });
    if ((operator === "in" || operator === "not_in") && !Array.isArray(value)) fail(`${operator} needs an array value`);
    if (operator.startsWith("greater_than") || operator.startsWith("less_than")) {
      if (typeof value !== "number" && typeof value !== "string") fail(`${operator} needs a number or string value`);
    }
    if (operator === "starts_with" && typeof value !== "string") fail("starts_with needs a string value");
    if (operator === "exists" && value !== undefined && typeof value !== "boolean") fail("exists takes an optional boolean value");
    if ((operator === "equals" || operator === "not_equals" || operator === "contains") && value === undefined) {
      fail(`${operator} needs a value`);
    }
  })
  .openapi("ConditionLeaf");
export type ConditionLeaf = z.infer<typeof ConditionLeafSchema>;

export type ConditionGroup = { type: "AND" | "OR"; conditions: Array<ConditionLeaf | ConditionGroup> };

export const ConditionGroupSchema: z.ZodType<ConditionGroup> = z
  .strictObject({
    type: z.enum(["AND", "OR"]),
    get conditions(): z.ZodArray<z.ZodType<ConditionLeaf | ConditionGroup>> {
      return z.array(z.union([ConditionLeafSchema, ConditionGroupSchema])).max(MAX_CONDITION_GROUP_SIZE);
    },
  })
  .openapi("ConditionGroup");

/**
 * Group nesting and node count of a condition tree, measured without recursion so that hostile input (a
 * tree thousands of groups deep) is refused before the recursive schema below ever sees it.
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

/** A definition's `conditions`: bounded in depth and size first, then validated as a tree. */
export const ConditionTreeSchema = z.preprocess((tree, ctx) => {
  const { depth, nodes } = conditionTreeSize(tree);
  if (depth > MAX_CONDITION_DEPTH) ctx.addIssue({ code: "custom", message: `must not nest deeper than ${MAX_CONDITION_DEPTH} groups` });
  else if (nodes > MAX_CONDITION_NODES) ctx.addIssue({ code: "custom", message: `must have at most ${MAX_CONDITION_NODES} conditions and groups` });
  return tree;
}, ConditionGroupSchema);

export const MetadataFieldSchema = z.strictObject({
  key: z.string().min(1).max(200),
  type: z.enum(METADATA_FIELD_TYPES),
  required: z.boolean().default(false),
});
export type MetadataField = z.infer<typeof MetadataFieldSchema>;

export const EventIdSchema = z
  .string()
  .regex(EVENT_ID_PATTERN, EVENT_ID_RULE)
  .openapi({ example: "purchase_completed" });

/** The fields of an event definition document, shared by the input and output schemas. */
const definitionFields = {
  title: z.string().min(1).max(200),
  description: z.string().max(2000).default(""),
  status: z.enum(["ACTIVE", "INACTIVE"]).default("ACTIVE"),
  type: z.enum(["STANDARD", "TRANSACTION"]).default("STANDARD"),
  reward: z
    .record(z.string().min(1).max(100), z.number().finite().nonnegative().max(MAX_REWARD_RATE))
    .refine((reward) => Object.keys(reward).length <= MAX_REWARD_GROUPS, `must name at most ${MAX_REWARD_GROUPS} usergroups`)
    .describe("Points (STANDARD) or points per unit of rewardValueField (TRANSACTION) per usergroup; `default` is required"),
  rewardValueField: z.string().min(1).max(200).optional(),
  limit: z.number().int().positive().optional().describe("Maximum rewarded logs per user per limitPeriod"),
  limitPeriod: z.enum(LIMIT_PERIODS).default("lifetime"),
  maximumReward: z.number().int().nonnegative().optional().describe("Maximum points a single log can award"),
  conditions: ConditionTreeSchema.optional(),
  metadataFields: z.array(MetadataFieldSchema).max(100).default([]),
  requiresApiKey: z.boolean().default(false),
  loyaltyEventType: z.enum(LOYALTY_EVENT_TYPES).optional(),
  rewardType: z
    .enum(REWARD_TYPES)
    .optional()
    .describe(
      "LOYALTY_POINTS (default): points to the balance; PERCENTAGE: reward[group] percent of the value field (TRANSACTION); FLAT_AMOUNT: reward[group] in rewardCurrency. Monetary rewards are rounded to 2 decimals and add no points",
    ),
  rewardCurrency: z
    .string()
    .regex(/^[A-Z]{3}$/, "must be an ISO 4217 code such as EUR")
    .optional()
    .describe("Currency of FLAT_AMOUNT rewards (required there); PERCENTAGE rewards use metadata.currency, else this"),
  customerMessage: z
    .string()
    .max(500)
    .optional()
    .describe("Shown with the reward in the ledger; {points}, {title} and {balance} are filled in when logged"),
  allowRewardIncrease: z.boolean().optional().describe("Whether an adjustment may raise a reward above its original amount (default false)"),
};

/** An event definition as `PUT /v1/admin/events/{eventId}` takes it (eventId comes from the path). */
export const EventDefinitionBodySchema = z
  .strictObject(definitionFields)
  .superRefine((doc, ctx) => {
    if (doc.reward.default === undefined) {
      ctx.addIssue({ code: "custom", path: ["reward", "default"], message: "a default reward is required" });
    }
    if (doc.type === "TRANSACTION" && !doc.rewardValueField) {
      ctx.addIssue({ code: "custom", path: ["rewardValueField"], message: "required when type is TRANSACTION" });
    }
    if (doc.type === "STANDARD" && doc.rewardValueField) {
      ctx.addIssue({ code: "custom", path: ["rewardValueField"], message: "only allowed when type is TRANSACTION" });
    }
    if (doc.rewardType === "PERCENTAGE" && doc.type !== "TRANSACTION") {
      ctx.addIssue({ code: "custom", path: ["rewardType"], message: "PERCENTAGE needs type TRANSACTION (a value to take a percentage of)" });
    }
    if (doc.rewardType === "FLAT_AMOUNT" && !doc.rewardCurrency) {
      ctx.addIssue({ code: "custom", path: ["rewardCurrency"], message: "required when rewardType is FLAT_AMOUNT" });
    }
    if ((doc.rewardType ?? "LOYALTY_POINTS") === "LOYALTY_POINTS" && doc.rewardCurrency) {
      ctx.addIssue({ code: "custom", path: ["rewardCurrency"], message: "only for monetary rewards (PERCENTAGE, FLAT_AMOUNT)" });
    }
    const seen = new Set<string>();
    doc.metadataFields.forEach((field, i) => {
      if (seen.has(field.key)) ctx.addIssue({ code: "custom", path: ["metadataFields", i, "key"], message: "duplicate key" });
      seen.add(field.key);
    });
  })
  .openapi("EventDefinitionInput");
export type EventDefinitionBody = z.infer<typeof EventDefinitionBodySchema>;

/** What GET /v1/event and GET /v1/event/{eventId} return. */
export const EventDefinitionSchema = z.object({ eventId: z.string(), ...definitionFields }).openapi("EventDefinition");
export type EventDefinition = z.infer<typeof EventDefinitionSchema>;

/** A definition as the write path uses it: the document, the version it was read at, and its numeric id (the ledger's ruleId). */
export type VersionedDefinition = EventDefinition & { version: number; ruleId: number | null };
