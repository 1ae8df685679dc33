import { describe, expect, it } from "vitest";
import { chunkBySize, jsonDepth, summarizeValue, utf8Bytes } from "../../src/domain/json";
import { MAX_JSON_DEPTH } from "../../src/domain/limits";

describe("jsonDepth", () => {
  it.each([
    [1, 0],
    ["s", 0],
    [{}, 1],
    [[1, [2, [3]]], 3],
    [{ a: { b: [{ c: 1 }] } }, 4],
  ])("depth of %j is %i", (value, depth) => {
    expect(jsonDepth(value)).toBe(depth);
  });

  it("stops early on hostile nesting without overflowing the stack", () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(jsonDepth(deep)).toBe(MAX_JSON_DEPTH + 1);
  });
});

describe("chunkBySize", () => {
  it("splits by count and by size, keeping order, and gives an oversized item its own chunk", () => {
    const sizes = [3, 3, 3, 10, 1, 1, 1, 1];
    expect(chunkBySize(sizes, (n) => n, 6)).toEqual([[3, 3], [3], [10], [1, 1, 1, 1]]);
    expect(chunkBySize(sizes, (n) => n, 100, 3)).toEqual([
      [3, 3, 3],
      [10, 1, 1],
      [1, 1],
    ]);
    expect(chunkBySize([], (n: number) => n, 6)).toEqual([]);
  });
});

describe("utf8Bytes and summarizeValue", () => {
  it("counts UTF-8 bytes, not characters", () => {
    expect(utf8Bytes("aé€😀")).toBe(1 + 2 + 3 + 4);
  });

  it("keeps small values and replaces large ones", () => {
    expect(summarizeValue(5)).toBe(5);
    expect(summarizeValue({ a: 1 })).toEqual({ a: 1 });
    expect(summarizeValue("x".repeat(300))).toBe(`${"x".repeat(200)}…`);
    expect(summarizeValue(new Array(500).fill(1))).toBe("[array of 500]");
    expect(summarizeValue(Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, i])))).toBe("[object with 100 keys]");
  });
});
