import type { z } from "@hono/zod-openapi";

/**
 * Opaque paging cursors: a JSON position, base64url-encoded (UTF-8, so any user id fits). A cursor only names
 * a place to continue from; it grants nothing, so it is not signed: a forged one reads what its holder may
 * read anyway.
 */
export function encodeCursor(position: unknown): string {
  const bytes = new TextEncoder().encode(JSON.stringify(position));
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** The position `text` holds if it is a cursor of `schema`'s shape, else null. At most 1,000 characters are read. */
export function decodeCursor<T>(text: string, schema: z.ZodType<T>): T | null {
  if (text.length === 0 || text.length > 1_000 || !/^[A-Za-z0-9_-]+$/.test(text)) return null;
  try {
    const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
    const json = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
    const parsed = schema.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
