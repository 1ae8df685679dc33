import { z } from "@hono/zod-openapi";
import { MAX_JSON_DEPTH } from "./limits";

/** Nesting depth of a parsed JSON value, measured iteratively so hostile input cannot overflow the stack. */
export function jsonDepth(value: unknown, limit = MAX_JSON_DEPTH + 1): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== "object") continue;
    const level = depth + 1;
    if (level > deepest) deepest = level;
    if (deepest >= limit) return deepest;
    for (const child of Object.values(current)) stack.push([child, level]);
  }
  return deepest;
}

/** A JSON object of bounded nesting (metadata, attributes). */
export const boundedJsonObject = () =>
  z.record(z.string(), z.unknown()).refine((value) => jsonDepth(value) <= MAX_JSON_DEPTH, `must not nest deeper than ${MAX_JSON_DEPTH} levels`);

/** UTF-8 size of a string, which is what queue and D1 limits count. */
export const utf8Bytes = (text: string): number => new TextEncoder().encode(text).length;

/** Whether a string's UTF-8 form fits in `maxBytes`; encodes only when its length leaves doubt (at most 3 bytes per unit). */
export const fitsInBytes = (text: string, maxBytes: number): boolean => text.length * 3 <= maxBytes || utf8Bytes(text) <= maxBytes;

/** Splits items into runs of at most `maxCount` items and `maxBytes` bytes (an oversized item gets a run alone). */
export function chunkBySize<T>(items: readonly T[], sizeOf: (item: T) => number, maxBytes: number, maxCount = Infinity): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (current.length > 0 && (current.length >= maxCount || bytes + size > maxBytes)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** A short stand-in for a large value, so reasons and logs stay small whatever the metadata holds. */
export function summarizeValue(value: unknown, maxChars = 200): unknown {
  if (typeof value === "string") return value.length > maxChars ? `${value.slice(0, maxChars)}…` : value;
  if (value === null || typeof value !== "object") return value;
  const json = JSON.stringify(value);
  if (json.length <= maxChars) return value;
  return Array.isArray(value) ? `[array of ${value.length}]` : `[object with ${Object.keys(value).length} keys]`;
}
