import { describe, expect, it } from "vitest";
import {
  draftToInput,
  emptyDraft,
  newGroup,
  newKey,
  parseConditionValue,
  formatConditionValue,
  type EventDraft,
} from "../../dashboard/src/events/definition-draft";
import { EventDefinitionBodySchema } from "../../src/domain/definition";

describe("the event form's draft", () => {
  const draft = (changes: Partial<EventDraft>): EventDraft => ({ ...emptyDraft(), eventId: "review", title: "Review", ...changes });

  it("builds a body the API accepts, with a condition tree and usergroup rewards", () => {
    const conditions = newGroup("AND");
    conditions.conditions = [
      { kind: "leaf", key: newKey(), field: "stars", operator: "greater_than_or_equal", value: "4" },
      { kind: "leaf", key: newKey(), field: "currency", operator: "in", value: "EUR, USD" },
    ];
    const { input, problems } = draftToInput(
      draft({
        rewards: [
          { key: 1, group: "default", amount: "10" },
          { key: 2, group: "gold", amount: "20" },
        ],
        limit: "3",
        limitPeriod: "week",
        conditions,
      }),
      true,
    );
    expect(problems).toEqual([]);
    expect(EventDefinitionBodySchema.safeParse(input).success).toBe(true);
    expect(input).toMatchObject({
      reward: { default: 10, gold: 20 },
      limit: 3,
      limitPeriod: "week",
      conditions: {
        type: "AND",
        conditions: [
          { field: "stars", operator: "greater_than_or_equal", value: 4 },
          { field: "currency", operator: "in", value: ["EUR", "USD"] },
        ],
      },
    });
  });

  it("names half-typed numbers, repeated usergroups and bad event ids at their fields", () => {
    const { problems } = draftToInput(
      draft({
        eventId: "has space",
        limit: "abc",
        rewards: [
          { key: 1, group: "default", amount: "x" },
          { key: 2, group: "default", amount: "2" },
        ],
      }),
      true,
    );
    expect(problems.map((p) => p.path)).toEqual(expect.arrayContaining(["eventId", "rewards.1.group", "reward.default", "limit"]));
  });

  it("names the definition rules' problems at the API's dotted paths, and numbers that are no numbers as such", () => {
    const { problems } = draftToInput(
      draft({
        maximumReward: "Infinity",
        metadataFields: [
          { key: 1, name: "a", type: "string", required: false },
          { key: 2, name: "a", type: "number", required: false },
        ],
      }),
      false,
    );
    expect(problems).toEqual([
      { path: "maximumReward", message: "must be a number" },
      { path: "metadataFields.1.key", message: "duplicate key" },
    ]);
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
