/** HTTP details of list answers: content negotiation and RFC 8288 `Link` relations. */

/**
 * Whether an Accept header admits JSON: absent, a wildcard (`*\/*`, `application/*`), or `application/json`
 * (also `+json` types), unless its q is 0.
 */
export function acceptsJson(accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === "") return true;
  return accept.split(",").some((range) => {
    const [type = "", ...params] = range
      .trim()
      .toLowerCase()
      .split(";")
      .map((p) => p.trim());
    const q = params.find((p) => p.startsWith("q="));
    if (q !== undefined && Number(q.slice(2)) === 0) return false;
    return type === "*/*" || type === "application/*" || type === "application/json" || /^application\/[\w.-]+\+json$/.test(type);
  });
}

/** One RFC 8288 `Link` of a ledger page: a page number, or (next) a cursor. */
export type PageLink = { rel: "first" | "prev" | "last"; page: number } | { rel: "next"; cursor: string };

/**
 * The `Link` relations of a page: first; prev for a numbered page after the first; next (a cursor) when more
 * items follow; last when the total is exact and its page within reach of page numbers (`maxOffset`).
 */
export function pageLinks(at: { page: number | null; size: number; total: number; exact: boolean; next: string | null; maxOffset: number }): PageLink[] {
  const last = at.exact ? Math.max(0, Math.ceil(at.total / at.size) - 1) : null;
  const links: PageLink[] = [{ rel: "first", page: 0 }];
  if (at.page !== null && at.page > 0) links.push({ rel: "prev", page: last === null ? at.page - 1 : Math.min(at.page - 1, last) });
  if (at.next !== null) links.push({ rel: "next", cursor: at.next });
  if (last !== null && last * at.size <= at.maxOffset) links.push({ rel: "last", page: last });
  return links;
}
