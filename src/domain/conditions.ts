import type { ConditionGroup, ConditionLeaf } from "./definition";
import { canonicalJson } from "./hashing";

/** Reads a dotted path (`cart.total`) from metadata; an exact key containing dots wins over descending. */
export function readPath(metadata: Record<string, unknown>, path: string): unknown {
  if (Object.hasOwn(metadata, path)) return metadata[path];
  let current: unknown = metadata;
  for (const part of path.split(".")) {
    if (current === null || typeof current !== "object" || !Object.hasOwn(current, part)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  return canonicalJson(a) === canonicalJson(b); // objects compare by content, whatever their key order
}

/** Orders two values of the same primitive kind; anything else is incomparable (the condition fails). */
function compare(a: unknown, b: unknown): number | undefined {
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  return undefined;
}

export function leafHolds(leaf: ConditionLeaf, metadata: Record<string, unknown>): boolean {
  const actual = readPath(metadata, leaf.field);
  const expected = leaf.value;
  switch (leaf.operator) {
    case "equals":
      return sameValue(actual, expected);
    case "not_equals":
      return !sameValue(actual, expected);
    case "greater_than": {
      const c = compare(actual, expected);
      return c !== undefined && c > 0;
    }
    case "greater_than_or_equal": {
      const c = compare(actual, expected);
      return c !== undefined && c >= 0;
    }
    case "less_than": {
      const c = compare(actual, expected);
      return c !== undefined && c < 0;
    }
    case "less_than_or_equal": {
      const c = compare(actual, expected);
      return c !== undefined && c <= 0;
    }
    case "in":
      return Array.isArray(expected) && expected.some((v) => sameValue(actual, v));
    case "not_in":
      return Array.isArray(expected) && !expected.some((v) => sameValue(actual, v));
    case "contains":
      if (typeof actual === "string") return typeof expected === "string" && actual.includes(expected);
      if (Array.isArray(actual)) return actual.some((v) => sameValue(v, expected));
      return false;
    case "starts_with":
      return typeof actual === "string" && typeof expected === "string" && actual.startsWith(expected);
    case "exists":
      return (actual !== undefined && actual !== null) === (expected ?? true);
  }
}

export type ConditionResult = { reached: boolean; failed: ConditionLeaf[] };

/**
 * Evaluates a condition tree. An empty group holds (a definition without conditions always rewards).
 * `failed` lists the leaves that made the tree fail, for the response's `reasons`.
 */
export function evaluateConditions(tree: ConditionGroup | undefined, metadata: Record<string, unknown>): ConditionResult {
  if (!tree || tree.conditions.length === 0) return { reached: true, failed: [] };
  const results = tree.conditions.map((node) =>
    "field" in node ? { reached: leafHolds(node, metadata), failed: [node] } : evaluateConditions(node, metadata),
  );
  const reached = tree.type === "AND" ? results.every((r) => r.reached) : results.some((r) => r.reached);
  return { reached, failed: reached ? [] : results.filter((r) => !r.reached).flatMap((r) => r.failed) };
}
