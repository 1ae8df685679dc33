import { describe, expect, it } from "vitest";

import { evaluateConditions, leafHolds, readPath } from "../../src/domain/conditions";
import type { ConditionGroup, ConditionLeaf } from "../../src/domain/definition";

type Operator = ConditionLeaf["operator"];

const leaf = (field: string, operator: Operator, value?: unknown): ConditionLeaf => (value === undefined ? { field, operator } : { field, operator, value });

describe("readPath", () => {
  const metadata: Record<string, unknown> = {
    amount: 12,
    cart: { total: 99.5, items: [{ sku: "A1" }, { sku: "B2" }], empty: null },
    "cart.total": "exact-key",
    "a.b": { c: "via exact then nested?" },
    flag: false,
    zero: 0,
    nothing: null,
    name: "alice",
  };

  it.each<[string, unknown]>([
    ["amount", 12],
    ["flag", false],
    ["zero", 0],
    ["nothing", null],
    ["cart.items.1.sku", "B2"],
    ["cart.items.0", { sku: "A1" }],
    ["cart.empty", null],
  ])("reads %s", (path, expected) => {
    expect(readPath(metadata, path)).toEqual(expected);
  });

  it("descends into nested objects with a dotted path", () => {
    expect(readPath({ cart: { total: 42 } }, "cart.total")).toBe(42);
    expect(readPath({ a: { b: { c: { d: "deep" } } } }, "a.b.c.d")).toBe("deep");
  });

  it("prefers an exact key containing dots over descending", () => {
    expect(readPath(metadata, "cart.total")).toBe("exact-key");
  });

  it("reads an exact dotted key when there is no nested object", () => {
    expect(readPath({ "order.id": "o-1" }, "order.id")).toBe("o-1");
  });

  it.each([
    ["missing"],
    ["cart.missing"],
    ["cart.total.deeper"], // exact key "cart.total" is a string, and there is no "cart.total.deeper" key
    ["cart.empty.x"], // through null
    ["nothing.x"],
    ["name.length"], // does not descend into strings
    ["amount.toFixed"], // nor numbers
    ["cart.items.5"],
    ["constructor"], // inherited properties are not metadata
    ["cart.hasOwnProperty"],
    ["toString"],
    ["a.b.c"], // "a.b" is an exact key but paths are not split partially
    [""],
  ])("returns undefined for %j", (path) => {
    expect(readPath(metadata, path)).toBeUndefined();
  });
});

describe("leafHolds", () => {
  const metadata: Record<string, unknown> = {
    amount: 50,
    price: 9.99,
    name: "premium-gold",
    country: "DE",
    tags: ["vip", "new", 7, { k: 1 }],
    cart: { total: 120, currency: "EUR", items: [{ sku: "A" }] },
    flag: true,
    off: false,
    zero: 0,
    empty: "",
    nothing: null,
    obj: { a: 1, b: [1, 2] },
    numericString: "50",
  };

  type Row = [Operator, string, unknown, boolean];

  const table: Record<Operator, Row[]> = {
    equals: [
      ["equals", "amount", 50, true],
      ["equals", "amount", 51, false],
      ["equals", "amount", "50", false], // no coercion
      ["equals", "numericString", 50, false],
      ["equals", "name", "premium-gold", true],
      ["equals", "name", "Premium-Gold", false],
      ["equals", "flag", true, true],
      ["equals", "off", false, true],
      ["equals", "off", 0, false],
      ["equals", "zero", false, false],
      ["equals", "cart.total", 120, true],
      ["equals", "cart.currency", "EUR", true],
      ["equals", "obj", { a: 1, b: [1, 2] }, true], // deep equality
      ["equals", "obj", { a: 1, b: [2, 1] }, false],
      ["equals", "tags", ["vip", "new", 7, { k: 1 }], true],
      ["equals", "tags", ["vip"], false],
      ["equals", "nothing", null, true],
      ["equals", "missing", null, false],
      ["equals", "missing", 0, false],
      ["equals", "nothing", "null", false],
      ["equals", "obj", "[object Object]", false],
    ],
    not_equals: [
      ["not_equals", "amount", 50, false],
      ["not_equals", "amount", 51, true],
      ["not_equals", "amount", "50", true],
      ["not_equals", "name", "premium-gold", false],
      ["not_equals", "obj", { a: 1, b: [1, 2] }, false],
      ["not_equals", "obj", { a: 2 }, true],
      ["not_equals", "nothing", null, false],
      ["not_equals", "missing", "x", true], // a missing field is not equal to anything
    ],
    greater_than: [
      ["greater_than", "amount", 49, true],
      ["greater_than", "amount", 50, false],
      ["greater_than", "amount", 51, false],
      ["greater_than", "price", 9.98, true],
      ["greater_than", "cart.total", 100, true],
      ["greater_than", "name", "premium", true], // strings compare lexicographically
      ["greater_than", "country", "FR", false],
      ["greater_than", "numericString", 10, false], // type mismatch: incomparable
      ["greater_than", "amount", "10", false],
      ["greater_than", "missing", 0, false],
      ["greater_than", "nothing", -1, false],
      ["greater_than", "flag", 0, false],
      ["greater_than", "tags", 0, false],
    ],
    greater_than_or_equal: [
      ["greater_than_or_equal", "amount", 49, true],
      ["greater_than_or_equal", "amount", 50, true],
      ["greater_than_or_equal", "amount", 51, false],
      ["greater_than_or_equal", "country", "DE", true],
      ["greater_than_or_equal", "country", "DF", false],
      ["greater_than_or_equal", "numericString", 50, false],
      ["greater_than_or_equal", "missing", 0, false],
      ["greater_than_or_equal", "nothing", 0, false],
    ],
    less_than: [
      ["less_than", "amount", 51, true],
      ["less_than", "amount", 50, false],
      ["less_than", "amount", 49, false],
      ["less_than", "price", 10, true],
      ["less_than", "zero", 1, true],
      ["less_than", "country", "FR", true],
      ["less_than", "country", "AT", false],
      ["less_than", "numericString", 100, false],
      ["less_than", "missing", 100, false],
      ["less_than", "nothing", 100, false],
      ["less_than", "off", 1, false],
    ],
    less_than_or_equal: [
      ["less_than_or_equal", "amount", 51, true],
      ["less_than_or_equal", "amount", 50, true],
      ["less_than_or_equal", "amount", 49, false],
      ["less_than_or_equal", "country", "DE", true],
      ["less_than_or_equal", "country", "DD", false],
      ["less_than_or_equal", "amount", "50", false],
      ["less_than_or_equal", "missing", 0, false],
      ["less_than_or_equal", "nothing", 0, false],
    ],
    in: [
      ["in", "country", ["DE", "AT", "CH"], true],
      ["in", "country", ["FR", "IT"], false],
      ["in", "country", [], false],
      ["in", "amount", [10, 50], true],
      ["in", "amount", ["50"], false],
      ["in", "obj", [{ a: 1, b: [1, 2] }], true],
      ["in", "nothing", [null], true],
      ["in", "missing", ["DE"], false],
      ["in", "country", "DE", false], // non-array value never matches
      ["in", "country", "DE,AT", false],
    ],
    not_in: [
      ["not_in", "country", ["FR", "IT"], true],
      ["not_in", "country", ["DE", "AT"], false],
      ["not_in", "country", [], true],
      ["not_in", "amount", ["50"], true],
      ["not_in", "amount", [50], false],
      ["not_in", "obj", [{ a: 1, b: [1, 2] }], false],
      ["not_in", "missing", ["DE"], true],
      ["not_in", "country", "FR", false], // non-array value never holds
    ],
    contains: [
      ["contains", "name", "gold", true],
      ["contains", "name", "premium-gold", true],
      ["contains", "name", "", true],
      ["contains", "name", "GOLD", false],
      ["contains", "name", "silver", false],
      ["contains", "numericString", 5, false], // string actual, non-string expected
      ["contains", "empty", "a", false],
      ["contains", "tags", "vip", true],
      ["contains", "tags", 7, true],
      ["contains", "tags", "7", false],
      ["contains", "tags", { k: 1 }, true],
      ["contains", "tags", "vi", false], // array membership is exact, not substring
      ["contains", "tags", "gold", false],
      ["contains", "cart.items", { sku: "A" }, true],
      ["contains", "amount", 5, false], // numbers do not contain
      ["contains", "obj", "a", false], // objects do not contain
      ["contains", "missing", "x", false],
      ["contains", "nothing", "x", false],
    ],
    starts_with: [
      ["starts_with", "name", "premium", true],
      ["starts_with", "name", "premium-gold", true],
      ["starts_with", "name", "gold", false],
      ["starts_with", "name", "Premium", false],
      ["starts_with", "country", "D", true],
      ["starts_with", "numericString", 5, false],
      ["starts_with", "amount", "5", false], // number actual
      ["starts_with", "tags", "vip", false], // array actual
      ["starts_with", "missing", "x", false],
      ["starts_with", "nothing", "n", false],
    ],
    exists: [
      ["exists", "amount", undefined, true],
      ["exists", "zero", undefined, true],
      ["exists", "off", undefined, true],
      ["exists", "empty", undefined, true],
      ["exists", "cart.total", undefined, true],
      ["exists", "missing", undefined, false],
      ["exists", "nothing", undefined, false], // null counts as absent
      ["exists", "cart.missing", undefined, false],
      ["exists", "amount", true, true],
      ["exists", "missing", true, false],
      ["exists", "nothing", true, false],
      ["exists", "amount", false, false],
      ["exists", "zero", false, false],
      ["exists", "missing", false, true],
      ["exists", "nothing", false, true],
      ["exists", "cart.missing", false, true],
    ],
  };

  it.each(Object.values(table).flat())("%s on %s with %j -> %s", (operator, field, value, expected) => {
    expect(leafHolds(leaf(field, operator, value), metadata)).toBe(expected);
  });

  it("compares objects by content, whatever their key order", () => {
    const md = { address: { city: "Bern", zip: "3000" } };
    expect(leafHolds(leaf("address", "equals", { zip: "3000", city: "Bern" }), md)).toBe(true);
    expect(leafHolds(leaf("address", "in", [{ zip: "3000", city: "Bern" }]), md)).toBe(true);
    expect(leafHolds(leaf("address", "equals", { zip: "3001", city: "Bern" }), md)).toBe(false);
  });

  it("reads exact dotted keys before descending", () => {
    const md = { "cart.total": 5, cart: { total: 500 } };
    expect(leafHolds(leaf("cart.total", "less_than", 10), md)).toBe(true);
    expect(leafHolds(leaf("cart.total", "equals", 500), md)).toBe(false);
  });

  it("compares strings by code unit, not numerically", () => {
    expect(leafHolds(leaf("v", "greater_than", "10"), { v: "9" })).toBe(true);
    expect(leafHolds(leaf("v", "greater_than", 10), { v: 9 })).toBe(false);
  });
});

describe("evaluateConditions", () => {
  const md: Record<string, unknown> = { amount: 50, country: "DE", tier: "gold", tags: ["vip"] };

  const bigAmount = leaf("amount", "greater_than", 40); // holds
  const smallAmount = leaf("amount", "less_than", 10); // fails
  const isDE = leaf("country", "equals", "DE"); // holds
  const isFR = leaf("country", "equals", "FR"); // fails
  const isSilver = leaf("tier", "equals", "silver"); // fails
  const isVip = leaf("tags", "contains", "vip"); // holds

  it.each<[string, ConditionGroup | undefined]>([
    ["undefined tree", undefined],
    ["empty AND", { type: "AND", conditions: [] }],
    ["empty OR", { type: "OR", conditions: [] }],
  ])("%s is reached with nothing failed", (_, tree) => {
    expect(evaluateConditions(tree, md)).toEqual({ reached: true, failed: [] });
    expect(evaluateConditions(tree, {})).toEqual({ reached: true, failed: [] });
  });

  it.each<[string, ConditionGroup, boolean, ConditionLeaf[]]>([
    ["AND all hold", { type: "AND", conditions: [bigAmount, isDE, isVip] }, true, []],
    ["AND one fails", { type: "AND", conditions: [bigAmount, isFR, isVip] }, false, [isFR]],
    ["AND two fail, in order", { type: "AND", conditions: [isSilver, bigAmount, isFR] }, false, [isSilver, isFR]],
    ["AND all fail", { type: "AND", conditions: [smallAmount, isFR] }, false, [smallAmount, isFR]],
    ["OR one holds", { type: "OR", conditions: [isFR, isDE] }, true, []],
    ["OR all hold", { type: "OR", conditions: [bigAmount, isDE] }, true, []],
    ["OR all fail", { type: "OR", conditions: [isFR, smallAmount, isSilver] }, false, [isFR, smallAmount, isSilver]],
    ["single leaf AND holds", { type: "AND", conditions: [isDE] }, true, []],
    ["single leaf OR fails", { type: "OR", conditions: [isFR] }, false, [isFR]],
    ["AND of (OR holds) and leaf holds", { type: "AND", conditions: [{ type: "OR", conditions: [isFR, isDE] }, bigAmount] }, true, []],
    [
      "AND with nested OR failing lists the nested leaves",
      { type: "AND", conditions: [bigAmount, { type: "OR", conditions: [isFR, isSilver] }] },
      false,
      [isFR, isSilver],
    ],
    [
      "AND failing leaf plus nested OR failing",
      { type: "AND", conditions: [smallAmount, { type: "OR", conditions: [isFR, isSilver] }, isDE] },
      false,
      [smallAmount, isFR, isSilver],
    ],
    [
      "AND failing leaf next to nested OR that holds lists only the leaf",
      { type: "AND", conditions: [{ type: "OR", conditions: [isFR, isDE] }, smallAmount] },
      false,
      [smallAmount],
    ],
    ["OR of nested AND that holds", { type: "OR", conditions: [isFR, { type: "AND", conditions: [isDE, bigAmount] }] }, true, []],
    [
      "OR of nested AND failing partially lists only the failing nested leaf",
      { type: "OR", conditions: [isFR, { type: "AND", conditions: [isDE, smallAmount] }] },
      false,
      [isFR, smallAmount],
    ],
    [
      "three levels deep",
      {
        type: "AND",
        conditions: [isDE, { type: "OR", conditions: [isSilver, { type: "AND", conditions: [isVip, smallAmount] }] }],
      },
      false,
      [isSilver, smallAmount],
    ],
    [
      "three levels deep, holding",
      {
        type: "AND",
        conditions: [isDE, { type: "OR", conditions: [isSilver, { type: "AND", conditions: [isVip, bigAmount] }] }],
      },
      true,
      [],
    ],
    ["nested empty group holds inside AND", { type: "AND", conditions: [{ type: "OR", conditions: [] }, isDE] }, true, []],
    ["nested empty group makes an OR hold", { type: "OR", conditions: [isFR, { type: "AND", conditions: [] }] }, true, []],
  ])("%s", (_, tree, reached, failed) => {
    const result = evaluateConditions(tree, md);
    expect(result.reached).toBe(reached);
    expect(result.failed).toEqual(failed);
  });

  it("returns the failing leaf objects themselves", () => {
    const result = evaluateConditions({ type: "AND", conditions: [isDE, isFR] }, md);
    expect(result.failed).toHaveLength(1);
    expect(result.failed[0]).toBe(isFR);
  });

  it("evaluates against missing metadata", () => {
    const tree: ConditionGroup = { type: "AND", conditions: [leaf("amount", "exists"), leaf("country", "exists", false)] };
    expect(evaluateConditions(tree, {})).toEqual({ reached: false, failed: [leaf("amount", "exists")] });
    expect(evaluateConditions(tree, { amount: 1 })).toEqual({ reached: true, failed: [] });
  });
});
