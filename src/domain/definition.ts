import { z } from "@hono/zod-openapi";
import { jsonDepth } from "./json";
import {
  boundMessages,
  conditionTreeSizeProblem,
  CURRENCY_PATTERN,
  CURRENCY_RULE,
  definitionRelationProblems,
  MAX_METADATA_FIELDS,
  operatorValueProblem,
  TEXT_BOUNDS,
  TOO_MANY_USERGROUPS,
  type FieldProblem,
  type TextBounds,
} from "./definition-rules";
import {
  CONDITION_OPERATORS,
  DEFINITION_STATUSES,
  EVENT_ID_PATTERN,
  EVENT_TYPES,
  EVENT_ID_RULE,
  LIMIT_PERIODS,
  LOYALTY_EVENT_TYPES,
  METADATA_FIELD_TYPES,
  REWARD_TYPES,
} from "./definition-vocabulary";
import { MAX_CONDITION_GROUP_SIZE, MAX_JSON_DEPTH, MAX_REWARD_GROUPS, MAX_REWARD_RATE } from "./limits";

/** A string within its bounds (which the OpenAPI document states), refused in the words of definition-rules.ts. */
const boundedText = ({ min, max }: TextBounds) =>
  (min > 0 ? z.string().min(min, boundMessages.tooShort(min)) : z.string()).max(max, boundMessages.tooLong(max));

/** Reports the rules' problems as zod issues. */
const addProblems = (ctx: z.RefinementCtx, problems: FieldProblem[]) => {
  for (const { path, message } of problems) ctx.addIssue({ code: "custom", path, message });
};

export const ConditionLeafSchema = z
  .strictObject({
    field: boundedText(TEXT_BOUNDS.conditionField).describe("Metadata key; dotted paths like `cart.total` reach into objects"),
    operator: z.enum(CONDITION_OPERATORS),
    value: z
      .unknown()
      .optional()
      .refine((value) => jsonDepth(value) <= MAX_JSON_DEPTH, `must not nest deeper than ${MAX_JSON_DEPTH} levels`),
  })
  .superRefine((leaf, ctx) => {
    const message = operatorValueProblem(leaf.operator, leaf.value);
    if (message) addProblems(ctx, [{ path: ["value"], message }]);
  })
  .openapi("ConditionLeaf");
export type ConditionLeaf = z.infer<typeof ConditionLeafSchema>;

export type ConditionGroup = { type: "AND" | "OR"; conditions: Array<ConditionLeaf | ConditionGroup> };

export const ConditionGroupSchema: z.ZodType<ConditionGroup> = z
  .strictObject({
    type: z.enum(["AND", "OR"]),
    get conditions(): z.ZodArray<z.ZodType<ConditionLeaf | ConditionGroup>> {
      return z.array(z.union([ConditionLeafSchema, ConditionGroupSchema])).max(MAX_CONDITION_GROUP_SIZE, boundMessages.tooManyItems(MAX_CONDITION_GROUP_SIZE));
    },
  })
  .openapi("ConditionGroup");

/** A definition's `conditions`: bounded in depth and size first, then validated as a tree. */
export const ConditionTreeSchema = z.preprocess((tree, ctx) => {
  const message = conditionTreeSizeProblem(tree);
  if (message) ctx.addIssue({ code: "custom", message });
  return tree;
}, ConditionGroupSchema);

export const MetadataFieldSchema = z.strictObject({
  key: boundedText(TEXT_BOUNDS.metadataKey),
  type: z.enum(METADATA_FIELD_TYPES),
  required: z.boolean().default(false),
});
export type MetadataField = z.infer<typeof MetadataFieldSchema>;

export const EventIdSchema = z.string().regex(EVENT_ID_PATTERN, EVENT_ID_RULE).openapi({ example: "purchase_completed" });

/** The fields of an event definition document, shared by the input and output schemas. */
const definitionFields = {
  title: boundedText(TEXT_BOUNDS.title),
  description: boundedText(TEXT_BOUNDS.description).default(""),
  status: z.enum(DEFINITION_STATUSES).default("ACTIVE"),
  type: z.enum(EVENT_TYPES).default("STANDARD"),
  reward: z
    .record(
      boundedText(TEXT_BOUNDS.usergroup),
      z.number().finite().nonnegative(boundMessages.below(0)).max(MAX_REWARD_RATE, boundMessages.above(MAX_REWARD_RATE)),
    )
    .refine((reward) => Object.keys(reward).length <= MAX_REWARD_GROUPS, TOO_MANY_USERGROUPS)
    .describe("Points (STANDARD) or points per unit of rewardValueField (TRANSACTION) per usergroup; `default` is required"),
  rewardValueField: boundedText(TEXT_BOUNDS.rewardValueField).optional(),
  limit: z.number().int(boundMessages.notWhole).positive(boundMessages.notPositive).optional().describe("Maximum rewarded logs per user per limitPeriod"),
  limitPeriod: z.enum(LIMIT_PERIODS).default("lifetime"),
  maximumReward: z.number().int(boundMessages.notWhole).nonnegative(boundMessages.below(0)).optional().describe("Maximum points a single log can award"),
  conditions: ConditionTreeSchema.optional(),
  metadataFields: z.array(MetadataFieldSchema).max(MAX_METADATA_FIELDS, boundMessages.tooManyItems(MAX_METADATA_FIELDS)).default([]),
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
    .regex(CURRENCY_PATTERN, CURRENCY_RULE)
    .optional()
    .describe("Currency of FLAT_AMOUNT rewards (required there); PERCENTAGE rewards use metadata.currency, else this"),
  customerMessage: boundedText(TEXT_BOUNDS.customerMessage)
    .optional()
    .describe("Shown with the reward in the ledger; {points}, {title} and {balance} are filled in when logged"),
  allowRewardIncrease: z.boolean().optional().describe("Whether an adjustment may raise a reward above its original amount (default false)"),
};

/** An event definition as `PUT /v1/admin/events/{eventId}` takes it (eventId comes from the path). */
export const EventDefinitionBodySchema = z
  .strictObject(definitionFields)
  .superRefine((doc, ctx) => addProblems(ctx, definitionRelationProblems(doc)))
  .openapi("EventDefinitionInput");
export type EventDefinitionBody = z.infer<typeof EventDefinitionBodySchema>;

/** What GET /v1/event and GET /v1/event/{eventId} return. */
export const EventDefinitionSchema = z.object({ eventId: z.string(), ...definitionFields }).openapi("EventDefinition");
export type EventDefinition = z.infer<typeof EventDefinitionSchema>;

/** A definition as the write path uses it: the document, the version it was read at, and its numeric id (the ledger's ruleId). */
export type VersionedDefinition = EventDefinition & { version: number; ruleId: number | null };
