import { describe, expect, it } from "vitest";

import { EventDefinitionBodySchema } from "../../src/domain/definition";
import { CONDITION_OPERATORS } from "../../src/domain/definition-vocabulary";

type Doc = Record<string, unknown>;

const standard: Doc = { title: "Card displayed", reward: { default: 10, gold: 20 } };

const transaction: Doc = {
  title: "Purchase",
  description: "Points per euro",
  status: "INACTIVE",
  type: "TRANSACTION",
  reward: { default: 1, gold: 1.5 },
  rewardValueField: "amount",
  limit: 5,
  limitPeriod: "week",
  maximumReward: 500,
  conditions: {
    type: "AND",
    conditions: [
      { field: "amount", operator: "greater_than", value: 0 },
      { field: "currency", operator: "in", value: ["EUR", "USD"] },
    ],
  },
  metadataFields: [
    { key: "amount", type: "number", required: true },
    { key: "currency", type: "string" },
  ],
  requiresApiKey: true,
  loyaltyEventType: "TRANSACTION_ASSESSMENT",
};

const leafDoc = (leaf: Doc): Doc => ({ ...standard, conditions: { type: "AND", conditions: [leaf] } });

function issuesOf(doc: unknown) {
  const result = EventDefinitionBodySchema.safeParse(doc);
  expect(result.success).toBe(false);
  return result.success ? [] : result.error.issues;
}

const paths = (doc: unknown) => issuesOf(doc).map((issue) => issue.path);

describe("EventDefinitionBodySchema", () => {
  it("accepts a minimal STANDARD document and applies the defaults", () => {
    expect(EventDefinitionBodySchema.parse(standard)).toEqual({
      title: "Card displayed",
      description: "",
      status: "ACTIVE",
      type: "STANDARD",
      reward: { default: 10, gold: 20 },
      limitPeriod: "lifetime",
      metadataFields: [],
      requiresApiKey: false,
    });
  });

  it("accepts a full TRANSACTION document unchanged except for metadataFields defaults", () => {
    const parsed = EventDefinitionBodySchema.parse(transaction);
    expect(parsed).toEqual({
      ...transaction,
      metadataFields: [
        { key: "amount", type: "number", required: true },
        { key: "currency", type: "string", required: false },
      ],
    });
  });

  it("applies defaults to a minimal TRANSACTION document", () => {
    const parsed = EventDefinitionBodySchema.parse({ title: "t", type: "TRANSACTION", rewardValueField: "cart.total", reward: { default: 0 } });
    expect(parsed).toMatchObject({ type: "TRANSACTION", rewardValueField: "cart.total", status: "ACTIVE", limitPeriod: "lifetime" });
    expect(parsed.limit).toBeUndefined();
    expect(parsed.maximumReward).toBeUndefined();
    expect(parsed.conditions).toBeUndefined();
  });

  it("rejects a TRANSACTION document without rewardValueField at [rewardValueField]", () => {
    const { rewardValueField: _omit, ...doc } = transaction;
    const issues = issuesOf(doc);
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toEqual(["rewardValueField"]);
    expect(issues[0]?.message).toBe("required when type is TRANSACTION");
  });

  it("rejects an empty rewardValueField", () => {
    expect(paths({ ...transaction, rewardValueField: "" })).toContainEqual(["rewardValueField"]);
  });

  it("rejects rewardValueField on a STANDARD document", () => {
    expect(paths({ ...standard, rewardValueField: "amount" })).toEqual([["rewardValueField"]]);
  });

  it.each<[string, Doc]>([
    ["no default", { gold: 20 }],
    ["an empty reward", {}],
  ])("rejects a reward with %s at [reward, default]", (_, reward) => {
    const issues = issuesOf({ ...standard, reward });
    expect(issues.map((i) => i.path)).toEqual([["reward", "default"]]);
    expect(issues[0]?.message).toBe("a default reward is required");
  });

  it("rejects a missing reward", () => {
    expect(paths({ title: "t" })).toContainEqual(["reward"]);
  });

  it.each<[string, unknown]>([
    ["negative", -1],
    ["non-numeric", "10"],
    ["infinite", Number.POSITIVE_INFINITY],
  ])("rejects a %s reward value", (_, value) => {
    expect(paths({ ...standard, reward: { default: value } })).toContainEqual(["reward", "default"]);
  });

  it.each<[string, unknown]>([
    ["title", ""],
    ["status", "PAUSED"],
    ["type", "BONUS"],
    ["limit", 0],
    ["limit", 1.5],
    ["limitPeriod", "year"],
    ["maximumReward", -1],
    ["maximumReward", 2.5],
    ["loyaltyEventType", "SOMETHING"],
    ["requiresApiKey", "yes"],
  ])("rejects %s = %j", (key, value) => {
    expect(paths({ ...standard, [key]: value })).toContainEqual([key]);
  });

  it("rejects unknown top-level keys", () => {
    const issues = issuesOf({ ...standard, eventId: "evt", points: 5 });
    expect(issues).toHaveLength(1);
    expect(issues[0]?.code).toBe("unrecognized_keys");
    expect(issues[0]?.path).toEqual([]);
    expect(issues[0]).toMatchObject({ keys: ["eventId", "points"] });
  });

  it("rejects unknown keys in a condition leaf and in a metadata field", () => {
    expect(EventDefinitionBodySchema.safeParse(leafDoc({ field: "a", operator: "exists", extra: 1 })).success).toBe(false);
    expect(paths({ ...standard, metadataFields: [{ key: "a", type: "string", extra: true }] })).toContainEqual(["metadataFields", 0]);
  });

  it("rejects an unknown operator inside the conditions", () => {
    const issues = issuesOf(leafDoc({ field: "amount", operator: "between", value: [1, 2] }));
    expect(issues.map((i) => i.path)).toEqual([["conditions", "conditions", 0]]);
  });

  it("lists exactly the supported operators", () => {
    expect([...CONDITION_OPERATORS].sort()).toEqual(
      [
        "contains",
        "equals",
        "exists",
        "greater_than",
        "greater_than_or_equal",
        "in",
        "less_than",
        "less_than_or_equal",
        "not_equals",
        "not_in",
        "starts_with",
      ].sort(),
    );
  });

  it.each<[string, unknown]>([
    ["in", "EUR"],
    ["in", 5],
    ["in", undefined],
    ["in", { 0: "EUR" }],
    ["not_in", "EUR"],
    ["greater_than", [1]],
    ["greater_than", undefined],
    ["greater_than_or_equal", true],
    ["less_than", null],
    ["less_than_or_equal", { n: 1 }],
    ["starts_with", 5],
    ["starts_with", undefined],
    ["exists", "yes"],
    ["exists", 1],
    ["equals", undefined],
    ["not_equals", undefined],
    ["contains", undefined],
  ])("rejects %s with value %j at the leaf's value", (operator, value) => {
    const leaf: Doc = value === undefined ? { field: "f", operator } : { field: "f", operator, value };
    expect(paths(leafDoc(leaf))).toEqual([["conditions", "conditions", 0, "value"]]);
  });

  it.each<[string, unknown]>([
    ["equals", "EUR"],
    ["equals", null],
    ["equals", { a: 1 }],
    ["not_equals", 0],
    ["greater_than", 5],
    ["greater_than_or_equal", "2026-01-01"],
    ["less_than", 0.5],
    ["less_than_or_equal", "m"],
    ["in", []],
    ["in", ["EUR", 1, null]],
    ["not_in", ["x"]],
    ["contains", "gold"],
    ["contains", 7],
    ["starts_with", ""],
    ["exists", undefined],
    ["exists", true],
    ["exists", false],
  ])("accepts %s with value %j", (operator, value) => {
    const leaf: Doc = value === undefined ? { field: "f", operator } : { field: "f", operator, value };
    expect(EventDefinitionBodySchema.safeParse(leafDoc(leaf)).success).toBe(true);
  });

  it("rejects an empty condition field", () => {
    expect(paths(leafDoc({ field: "", operator: "exists" }))).toHaveLength(1);
  });

  it("accepts nested condition groups and keeps their structure", () => {
    const conditions = {
      type: "OR",
      conditions: [
        { field: "tier", operator: "equals", value: "gold" },
        {
          type: "AND",
          conditions: [
            { field: "cart.total", operator: "greater_than_or_equal", value: 100 },
            {
              type: "OR",
              conditions: [
                { field: "country", operator: "in", value: ["DE", "AT"] },
                { field: "vip", operator: "exists" },
              ],
            },
          ],
        },
        { type: "AND", conditions: [] },
      ],
    };
    const parsed = EventDefinitionBodySchema.parse({ ...standard, conditions });
    expect(parsed.conditions).toEqual(conditions);
  });

  it("reports errors deep inside nested groups at their full path", () => {
    const conditions = {
      type: "AND",
      conditions: [
        { field: "a", operator: "exists" },
        { type: "OR", conditions: [{ field: "b", operator: "in", value: "x" }] },
      ],
    };
    expect(paths({ ...standard, conditions })).toEqual([["conditions", "conditions", 1, "conditions", 0, "value"]]);
  });

  it("rejects an unknown group type", () => {
    expect(EventDefinitionBodySchema.safeParse({ ...standard, conditions: { type: "XOR", conditions: [] } }).success).toBe(false);
  });

  it("rejects more than 100 conditions in a group", () => {
    const many = Array.from({ length: 101 }, (_, i) => ({ field: `f${i}`, operator: "exists" }));
    expect(paths({ ...standard, conditions: { type: "AND", conditions: many } })).toEqual([["conditions", "conditions"]]);
  });

  it("rejects duplicate metadata field keys at the duplicate", () => {
    const metadataFields = [
      { key: "a", type: "string" },
      { key: "b", type: "number" },
      { key: "a", type: "number" },
    ];
    expect(paths({ ...standard, metadataFields })).toEqual([["metadataFields", 2, "key"]]);
  });

  it("rejects an unknown metadata field type", () => {
    expect(paths({ ...standard, metadataFields: [{ key: "a", type: "date" }] })).toEqual([["metadataFields", 0, "type"]]);
  });
});
