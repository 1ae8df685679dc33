import { describe, expect, it } from "vitest";

import { EventDefinitionBodySchema } from "../../src/domain/definition";
import {
  boundMessages,
  conditionTreeSize,
  CURRENCY_RULE,
  definitionProblems,
  definitionRelationProblems,
  eventIdProblems,
  operatorValueProblem,
  TOO_MANY_USERGROUPS,
} from "../../src/domain/definition-rules";
import { COMPLETION_PREFIX_RULE, EVENT_ID_RULE, type ConditionOperator } from "../../src/domain/definition-vocabulary";
import { MAX_CONDITION_DEPTH, MAX_CONDITION_GROUP_SIZE, MAX_CONDITION_NODES, MAX_REWARD_GROUPS, MAX_REWARD_RATE } from "../../src/domain/limits";
import { fieldErrors } from "../../src/http/errors";
import rulesSource from "../../src/domain/definition-rules.ts?raw";
import vocabularySource from "../../src/domain/definition-vocabulary.ts?raw";
import limitsSource from "../../src/domain/limits.ts?raw";

type Body = Parameters<typeof definitionProblems>[0];
type Problem = [path: string, message: string];

/** What the rules name in a body (a client's raw JSON), dotted as the API answers it. */
const ruleProblems = (body: Record<string, unknown>): Problem[] => definitionProblems(body as Body).map((p) => [p.path.join("."), p.message]);
/** What PUT /v1/admin/events/{eventId} names in the same body. */
const apiProblems = (body: Record<string, unknown>): Problem[] => {
  const parsed = EventDefinitionBodySchema.safeParse(body);
  return parsed.success ? [] : fieldErrors(parsed.error).map((e) => [e.path, e.message]);
};

const leaf = (field: string, operator: string, value?: unknown) => (value === undefined ? { field, operator } : { field, operator, value });
const withLeaves = (...leaves: unknown[]) => ({ title: "x", reward: { default: 1 }, conditions: { type: "AND", conditions: leaves } });
const base = { title: "x", reward: { default: 1 } };
const tooShort = boundMessages.tooShort(1);

const BODIES: Array<[string, Record<string, unknown>, Problem[]]> = [
  ["a minimal standard event", { title: "Login", reward: { default: 5 } }, []],
  [
    "the demo purchase",
    {
      title: "Purchase",
      type: "TRANSACTION",
      rewardValueField: "amount",
      reward: { default: 1, gold: 2 },
      limit: 10,
      limitPeriod: "day",
      conditions: { type: "AND", conditions: [leaf("amount", "greater_than", 0), leaf("currency", "in", ["EUR", "USD"])] },
      metadataFields: [{ key: "amount", type: "number", required: true }],
    },
    [],
  ],
  ["an empty title", { title: "", reward: { default: 5 } }, [["title", tooShort]]],
  [
    "a long title, description and customer message",
    { ...base, title: "t".repeat(201), description: "d".repeat(2001), customerMessage: "m".repeat(501) },
    [
      ["title", boundMessages.tooLong(200)],
      ["description", boundMessages.tooLong(2000)],
      ["customerMessage", boundMessages.tooLong(500)],
    ],
  ],
  ["no default reward", { title: "x", reward: { gold: 5 } }, [["reward.default", "a default reward is required"]]],
  ["a negative reward", { title: "x", reward: { default: -1 } }, [["reward.default", "Too small: expected number to be >=0"]]],
  [
    "a reward over the rate limit",
    { title: "x", reward: { default: MAX_REWARD_RATE + 1 } },
    [["reward.default", `Too big: expected number to be <=${MAX_REWARD_RATE}`]],
  ],
  [
    "too many usergroups",
    { title: "x", reward: Object.fromEntries(Array.from({ length: MAX_REWARD_GROUPS + 1 }, (_, i) => [i === 0 ? "default" : `g${i}`, 1])) },
    [["reward", TOO_MANY_USERGROUPS]],
  ],
  ["a fractional limit", { ...base, limit: 1.5 }, [["limit", "Invalid input: expected int, received number"]]],
  ["a zero limit", { ...base, limit: 0 }, [["limit", "Too small: expected number to be >0"]]],
  ["a negative maximum", { ...base, maximumReward: -3 }, [["maximumReward", "Too small: expected number to be >=0"]]],
  ["a fractional maximum", { ...base, maximumReward: 2.5 }, [["maximumReward", boundMessages.notWhole]]],
  ["a transaction without value field", { ...base, type: "TRANSACTION" }, [["rewardValueField", "required when type is TRANSACTION"]]],
  [
    "a transaction with an empty value field",
    { ...base, type: "TRANSACTION", rewardValueField: "" },
    [
      ["rewardValueField", tooShort],
      ["rewardValueField", "required when type is TRANSACTION"],
    ],
  ],
  ["a standard event with a value field", { ...base, rewardValueField: "amount" }, [["rewardValueField", "only allowed when type is TRANSACTION"]]],
  [
    "percentage on a standard event",
    { ...base, rewardType: "PERCENTAGE", rewardCurrency: "EUR" },
    [["rewardType", "PERCENTAGE needs type TRANSACTION (a value to take a percentage of)"]],
  ],
  ["flat amount without currency", { ...base, rewardType: "FLAT_AMOUNT" }, [["rewardCurrency", "required when rewardType is FLAT_AMOUNT"]]],
  ["flat amount with a bad currency", { ...base, rewardType: "FLAT_AMOUNT", rewardCurrency: "eur" }, [["rewardCurrency", CURRENCY_RULE]]],
  ["points with a currency", { ...base, rewardCurrency: "EUR" }, [["rewardCurrency", "only for monetary rewards (PERCENTAGE, FLAT_AMOUNT)"]]],
  ["a valid flat amount", { title: "x", reward: { default: 2.5 }, rewardType: "FLAT_AMOUNT", rewardCurrency: "EUR" }, []],
  [
    "duplicate metadata keys",
    {
      ...base,
      metadataFields: [
        { key: "a", type: "string", required: false },
        { key: "b", type: "string" },
        { key: "a", type: "number", required: true },
      ],
    },
    [["metadataFields.2.key", "duplicate key"]],
  ],
  ["an empty metadata key", { ...base, metadataFields: [{ key: "", type: "string", required: false }] }, [["metadataFields.0.key", tooShort]]],
  [
    "too many metadata fields",
    { ...base, metadataFields: Array.from({ length: 101 }, (_, i) => ({ key: `k${i}`, type: "string" })) },
    [["metadataFields", boundMessages.tooManyItems(100)]],
  ],
  ["in without an array", withLeaves(leaf("a", "in", "EUR")), [["conditions.conditions.0.value", "in needs an array value"]]],
  ["equals without a value", withLeaves(leaf("a", "equals")), [["conditions.conditions.0.value", "equals needs a value"]]],
  ["exists with a number", withLeaves(leaf("a", "exists", 1)), [["conditions.conditions.0.value", "exists takes an optional boolean value"]]],
  ["starts_with a number", withLeaves(leaf("a", "starts_with", 3)), [["conditions.conditions.0.value", "starts_with needs a string value"]]],
  ["greater_than a list", withLeaves(leaf("a", "greater_than", [1])), [["conditions.conditions.0.value", "greater_than needs a number or string value"]]],
  [
    "a nested group with an empty field",
    withLeaves(leaf("a", "equals", 1), { type: "OR", conditions: [leaf("", "contains", "x"), leaf("b", "not_in", [1, 2])] }),
    [["conditions.conditions.1.conditions.0.field", tooShort]],
  ],
  ["an empty group", withLeaves(), []],
  [
    "a group over its size",
    withLeaves(...Array.from({ length: MAX_CONDITION_GROUP_SIZE + 1 }, (_, i) => leaf(`f${i}`, "exists"))),
    [["conditions.conditions", boundMessages.tooManyItems(MAX_CONDITION_GROUP_SIZE)]],
  ],
  [
    "field errors and a missing default together",
    { title: "", reward: { gold: 1 } },
    [
      ["title", tooShort],
      ["reward.default", "a default reward is required"],
    ],
  ],
];

describe("definitionProblems", () => {
  it.each(BODIES)("%s: names what PUT /v1/admin/events/{eventId} names, with the same messages", (_name, body, expected) => {
    expect(ruleProblems(body)).toEqual(expected);
    expect(apiProblems(body)).toEqual(expected);
  });

  it("names a condition tree over its depth or size as a whole", () => {
    let deep: Record<string, unknown> = { type: "AND", conditions: [leaf("a", "exists")] };
    for (let i = 0; i < MAX_CONDITION_DEPTH; i++) deep = { type: "AND", conditions: [deep] };
    const wide = {
      type: "OR",
      conditions: Array.from({ length: 11 }, () => ({ type: "AND", conditions: Array.from({ length: 100 }, () => leaf("a", "exists")) })),
    };
    for (const [conditions, message] of [
      [deep, `must not nest deeper than ${MAX_CONDITION_DEPTH} groups`],
      [wide, `must have at most ${MAX_CONDITION_NODES} conditions and groups`],
    ] as const) {
      const body = { ...base, conditions };
      expect(ruleProblems(body)).toEqual([["conditions", message]]);
      expect(apiProblems(body)).toEqual([["conditions", message]]);
    }
  });

  it("names a bad usergroup at the API's path (the API's message is zod's 'Invalid key in record', the rules say why)", () => {
    const body = { title: "x", reward: { default: 1, ["g".repeat(101)]: 2 } };
    expect(ruleProblems(body)).toEqual([[`reward.${"g".repeat(101)}`, boundMessages.tooLong(100)]]);
    expect(apiProblems(body)).toEqual([[`reward.${"g".repeat(101)}`, "Invalid key in record"]]);
  });
});

describe("definitionRelationProblems", () => {
  it("reads a body without type or rewardType as STANDARD with points, as the schema's defaults say", () => {
    expect(definitionRelationProblems({ title: "x", reward: { default: 1 } })).toEqual([]);
    expect(definitionRelationProblems({ title: "x", reward: { default: 1 }, rewardValueField: "amount", rewardCurrency: "EUR" })).toEqual([
      { path: ["rewardValueField"], message: "only allowed when type is TRANSACTION" },
      { path: ["rewardCurrency"], message: "only for monetary rewards (PERCENTAGE, FLAT_AMOUNT)" },
    ]);
  });

  it("leaves each field's own bounds to the schema", () => {
    expect(definitionRelationProblems({ title: "", reward: { default: -1 }, limit: 0 })).toEqual([]);
  });
});

describe("operatorValueProblem", () => {
  const cases: Array<[ConditionOperator, unknown, string | null]> = [
    ["in", ["EUR"], null],
    ["in", "EUR", "in needs an array value"],
    ["not_in", undefined, "not_in needs an array value"],
    ["greater_than", 5, null],
    ["less_than_or_equal", "2026-01-01", null],
    ["greater_than_or_equal", true, "greater_than_or_equal needs a number or string value"],
    ["starts_with", "", null],
    ["starts_with", 5, "starts_with needs a string value"],
    ["exists", undefined, null],
    ["exists", false, null],
    ["exists", "yes", "exists takes an optional boolean value"],
    ["equals", null, null],
    ["not_equals", undefined, "not_equals needs a value"],
    ["contains", 7, null],
  ];
  it.each(cases)("%s with %j: %s", (operator, value, expected) => {
    expect(operatorValueProblem(operator, value)).toBe(expected);
  });
});

describe("conditionTreeSize", () => {
  it("stops just past the bounds, so a hostile tree costs no more than a legal one", () => {
    let hostile: Record<string, unknown> = { type: "AND", conditions: [] };
    for (let i = 0; i < 100_000; i++) hostile = { type: "AND", conditions: [hostile] };
    expect(conditionTreeSize(hostile)).toEqual({ depth: MAX_CONDITION_DEPTH + 1, nodes: MAX_CONDITION_DEPTH + 1 });
  });

  it("counts groups and leaves", () => {
    expect(conditionTreeSize({ type: "AND", conditions: [leaf("a", "exists"), { type: "OR", conditions: [leaf("b", "exists")] }] })).toEqual({
      depth: 2,
      nodes: 4,
    });
  });
});

describe("eventIdProblems", () => {
  it.each<[string, string[]]>([
    ["review_written", []],
    ["a.b:c-d_1", []],
    ["review written", [EVENT_ID_RULE]],
    ["", [EVENT_ID_RULE]],
    ["e".repeat(129), [EVENT_ID_RULE]],
    ["challenge:three_purchases", [COMPLETION_PREFIX_RULE]],
  ])("%j: %j", (eventId, messages) => {
    expect(eventIdProblems(eventId)).toEqual(messages.map((message) => ({ path: ["eventId"], message })));
  });
});

describe("the rules module", () => {
  it("imports only zod-free modules of its own, so the dashboard bundles it without zod", () => {
    const zodFree: Record<string, string> = { "./definition-vocabulary": vocabularySource, "./limits": limitsSource };
    const importsOf = (source: string) => [...source.matchAll(/from\s+"([^"]+)"/g)].map((match) => match[1]);
    expect(importsOf(rulesSource).sort()).toEqual(Object.keys(zodFree));
    for (const [name, source] of Object.entries(zodFree)) expect(importsOf(source), name).toEqual([]);
  });
});
