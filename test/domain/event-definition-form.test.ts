import { describe, expect, it } from "vitest";
import { draftToInput, emptyDraft, newGroup, newKey, parseConditionValue, formatConditionValue, type EventDraft } from "../../dashboard/src/events/definition-draft";
import { definitionProblems } from "../../dashboard/src/events/definition-rules";
import { EventDefinitionBodySchema } from "../../src/domain/definition";
import { fieldErrors } from "../../src/http/errors";

/** The dashboard's event form validates like the API: the same bodies are refused, naming the same fields. */
const apiPaths = (body: unknown) => {
  const parsed = EventDefinitionBodySchema.safeParse(body);
  return parsed.success ? [] : [...new Set(fieldErrors(parsed.error).map((e) => e.path))].sort();
};
/** The corpus holds raw JSON bodies, as a client would send them. */
const formPaths = (body: unknown) => [...new Set(definitionProblems(body as Parameters<typeof definitionProblems>[0]).map((e) => e.path))].sort();

const leaf = (field: string, operator: string, value?: unknown) => (value === undefined ? { field, operator } : { field, operator, value });

const BODIES: Array<[string, Record<string, unknown>]> = [
  ["a minimal standard event", { title: "Login", reward: { default: 5 } }],
  ["the demo purchase", {
    title: "Purchase", type: "TRANSACTION", rewardValueField: "amount", reward: { default: 1, gold: 2 }, limit: 10, limitPeriod: "day",
    conditions: { type: "AND", conditions: [leaf("amount", "greater_than", 0), leaf("currency", "in", ["EUR", "USD"])] },
    metadataFields: [{ key: "amount", type: "number", required: true }],
  }],
  ["an empty title", { title: "", reward: { default: 5 } }],
  ["no default reward", { title: "x", reward: { gold: 5 } }],
  ["a negative reward", { title: "x", reward: { default: -1 } }],
  ["a reward over the rate limit", { title: "x", reward: { default: 2_000_000 } }],
  ["a fractional limit", { title: "x", reward: { default: 1 }, limit: 1.5 }],
  ["a zero limit", { title: "x", reward: { default: 1 }, limit: 0 }],
  ["a negative maximum", { title: "x", reward: { default: 1 }, maximumReward: -3 }],
  ["a transaction without value field", { title: "x", type: "TRANSACTION", reward: { default: 1 } }],
  ["a standard event with a value field", { title: "x", reward: { default: 1 }, rewardValueField: "amount" }],
  ["percentage on a standard event", { title: "x", reward: { default: 1 }, rewardType: "PERCENTAGE", rewardCurrency: "EUR" }],
  ["flat amount without currency", { title: "x", reward: { default: 1 }, rewardType: "FLAT_AMOUNT" }],
  ["flat amount with a bad currency", { title: "x", reward: { default: 1 }, rewardType: "FLAT_AMOUNT", rewardCurrency: "eur" }],
  ["points with a currency", { title: "x", reward: { default: 1 }, rewardCurrency: "EUR" }],
  ["a valid flat amount", { title: "x", reward: { default: 2.5 }, rewardType: "FLAT_AMOUNT", rewardCurrency: "EUR" }],
  ["duplicate metadata keys", { title: "x", reward: { default: 1 }, metadataFields: [{ key: "a", type: "string", required: false }, { key: "a", type: "number", required: true }] }],
  ["an empty metadata key", { title: "x", reward: { default: 1 }, metadataFields: [{ key: "", type: "string", required: false }] }],
  ["in without an array", { title: "x", reward: { default: 1 }, conditions: { type: "AND", conditions: [leaf("a", "in", "EUR")] } }],
  ["equals without a value", { title: "x", reward: { default: 1 }, conditions: { type: "OR", conditions: [leaf("a", "equals")] } }],
  ["exists with a number", { title: "x", reward: { default: 1 }, conditions: { type: "AND", conditions: [leaf("a", "exists", 1)] } }],
  ["exists without a value", { title: "x", reward: { default: 1 }, conditions: { type: "AND", conditions: [leaf("a", "exists")] } }],
  ["starts_with a number", { title: "x", reward: { default: 1 }, conditions: { type: "AND", conditions: [leaf("a", "starts_with", 3)] } }],
  ["greater_than a list", { title: "x", reward: { default: 1 }, conditions: { type: "AND", conditions: [leaf("a", "greater_than", [1])] } }],
  ["a nested group with an empty field", {
    title: "x", reward: { default: 1 },
    conditions: { type: "AND", conditions: [leaf("a", "equals", 1), { type: "OR", conditions: [leaf("", "contains", "x"), leaf("b", "not_in", [1, 2])] }] },
  }],
  ["an empty group", { title: "x", reward: { default: 1 }, conditions: { type: "AND", conditions: [] } }],
  ["field errors and a missing default together", { title: "", reward: { gold: 1 } }],
];

describe("the dashboard's event form validates like PUT /v1/admin/events/{eventId}", () => {
  it.each(BODIES)("%s", (_name, body) => {
    expect(formPaths(body)).toEqual(apiPaths(body));
  });

  it("refuses too deep condition trees like the API", () => {
    let tree: Record<string, unknown> = { type: "AND", conditions: [leaf("a", "exists")] };
    for (let i = 0; i < 40; i++) tree = { type: "AND", conditions: [tree] };
    const body = { title: "x", reward: { default: 1 }, conditions: tree };
    expect(apiPaths(body)).toEqual(["conditions"]);
    expect(formPaths(body)).toEqual(["conditions"]);
  });
});

describe("the event form's draft", () => {
  const draft = (changes: Partial<EventDraft>): EventDraft => ({ ...emptyDraft(), eventId: "review", title: "Review", ...changes });

  it("builds a body the API accepts, with a condition tree and usergroup rewards", () => {
    const conditions = newGroup("AND");
    conditions.conditions = [
      { kind: "leaf", key: newKey(), field: "stars", operator: "greater_than_or_equal", value: "4" },
      { kind: "leaf", key: newKey(), field: "currency", operator: "in", value: "EUR, USD" },
    ];
    const { input, problems } = draftToInput(
      draft({ rewards: [{ key: 1, group: "default", amount: "10" }, { key: 2, group: "gold", amount: "20" }], limit: "3", limitPeriod: "week", conditions }),
      true,
    );
    expect(problems).toEqual([]);
    expect(EventDefinitionBodySchema.safeParse(input).success).toBe(true);
    expect(input).toMatchObject({
      reward: { default: 10, gold: 20 },
      limit: 3,
      limitPeriod: "week",
      conditions: { type: "AND", conditions: [{ field: "stars", operator: "greater_than_or_equal", value: 4 }, { field: "currency", operator: "in", value: ["EUR", "USD"] }] },
    });
  });

  it("names half-typed numbers, repeated usergroups and bad event ids at their fields", () => {
    const { problems } = draftToInput(
      draft({ eventId: "has space", limit: "abc", rewards: [{ key: 1, group: "default", amount: "x" }, { key: 2, group: "default", amount: "2" }] }),
      true,
    );
    expect(problems.map((p) => p.path)).toEqual(expect.arrayContaining(["eventId", "rewards.1.group", "reward.default", "limit"]));
  });

  it("reads condition values as JSON where they parse and keeps strings that look like JSON quoted", () => {
    expect(parseConditionValue("42", "equals")).toBe(42);
    expect(parseConditionValue('"42"', "equals")).toBe("42");
    expect(parseConditionValue("EUR", "equals")).toBe("EUR");
    expect(parseConditionValue("", "exists")).toBeUndefined();
    expect(parseConditionValue("true", "exists")).toBe(true);
    expect(parseConditionValue('["a", 1]', "in")).toEqual(["a", 1]);
    expect(formatConditionValue("42")).toBe('"42"');
    expect(formatConditionValue("EUR")).toBe("EUR");
    expect(formatConditionValue(["EUR", "USD"])).toBe('["EUR","USD"]');
  });
});
