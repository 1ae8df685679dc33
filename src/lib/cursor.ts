import type { z } from "@hono/zod-openapi";
import { fromBase64Url, toBase64Url } from "./bytes";

/**
 * Opaque paging cursors: a JSON position, base64url-encoded (UTF-8, so any user id fits). A cursor only names
 * a place to continue from; it grants nothing, so it is not signed: a forged one reads what its holder may
 * read anyway.
 */
export function encodeCursor(position: unknown): string {
  return toBase64Url(new TextEncoder().encode(JSON.stringify(position)));
}

/** A cursor naming a 255-character user id, every character escaped in its JSON, stays under this. */
export const MAX_CURSOR_LENGTH = 4_000;

/** The position `text` holds if it is a cursor of `schema`'s shape, else null. At most MAX_CURSOR_LENGTH characters are read. */
export function decodeCursor<T>(text: string, schema: z.ZodType<T>): T | null {
  if (text.length === 0 || text.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(text)) return null;
  try {
    const json = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(fromBase64Url(text));
    const parsed = schema.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
