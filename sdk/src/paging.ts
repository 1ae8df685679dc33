import type { FetchOptions } from "openapi-fetch";
import type { LoyaltyClient } from "./client.js";
import { ApiError } from "./errors.js";
import type { paths } from "./schema.js";

/** One link of an RFC 8288 `Link` header: its target as written (relative or absolute) and its parameters. */
export interface LinkValue {
  target: string;
  /** Lower-cased relation types: `rel="next last"` gives ["next", "last"]. */
  rel: string[];
  params: Record<string, string>;
}

const LINK_VALUE = /<([^>]*)>((?:\s*;\s*[^\s;,=]+(?:\s*=\s*(?:"(?:[^"\\]|\\.)*"|[^;,]*))?)*)/g;
const LINK_PARAM = /;\s*([^\s;,=]+)(?:\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;,]*)))?/g;

/** Parses a `Link` header (RFC 8288): `</v1/loyalty-events?page=2&size=10>; rel="next", <…>; rel="last"`. */
export function parseLinkHeader(header: string | null): LinkValue[] {
  if (!header) return [];
  const links: LinkValue[] = [];
  for (const [, target = "", rawParams = ""] of header.matchAll(LINK_VALUE)) {
    const params: Record<string, string> = {};
    for (const [, name = "", quoted, bare] of rawParams.matchAll(LINK_PARAM)) {
      const key = name.toLowerCase();
      if (!(key in params)) params[key] = quoted !== undefined ? quoted.replace(/\\(.)/g, "$1") : (bare ?? "").trim();
    }
    links.push({ target, rel: (params.rel ?? "").toLowerCase().split(/\s+/).filter(Boolean), params });
  }
  return links;
}

/** The `rel="next"` link of a response, resolved against the URL it answered (links may be relative); null at the end. */
export function nextPageUrl(linkHeader: string | null, requestUrl: string): URL | null {
  const next = parseLinkHeader(linkHeader).find((link) => link.rel.includes("next"));
  return next ? new URL(next.target, requestUrl) : null;
}

type JsonOk<Operation> = Operation extends { responses: { 200: { content: { "application/json": infer Body } } } } ? Body : never;

/** GET paths whose answer is a JSON array: the lists a `Link: rel="next"` can continue (`/v1/loyalty-events`). */
export type ListPath = {
  [P in keyof paths]: paths[P] extends { get: infer Operation } ? (JsonOk<Operation> extends readonly unknown[] ? P : never) : never;
}[keyof paths];

/** One element of the list a path answers. */
export type ListItem<P extends ListPath> = JsonOk<paths[P]["get"]> extends readonly (infer Item)[] ? Item : never;

/** The request options of the first page: the path's query (filters, `size`, `sort`), headers, signal. */
export type ListInit<P extends ListPath> = FetchOptions<paths[P]["get"]>;

export interface Page<Item> {
  items: Item[];
  /** The page's response (headers such as `X-Total-Count`). */
  response: Response;
  /** The URL this page was read from. */
  url: string;
}

type LooseGet = (path: string, init?: Record<string, unknown>) => Promise<{ data?: unknown; error?: unknown; response: Response }>;

/**
 * Walks a paged list page by page: the first page from `path` and `init`, then each `Link: rel="next"` (relative
 * links resolved against the URL that answered, absolute ones followed as they are) through the same client, so
 * its credentials, headers and fetch apply. Stops at the page without a next link; a non-2xx page throws `ApiError`.
 */
export async function* pages<P extends ListPath>(client: LoyaltyClient, path: P, init?: ListInit<P>): AsyncGenerator<Page<ListItem<P>>> {
  const get = client.GET as unknown as LooseGet;
  const { params, ...options } = (init ?? {}) as { params?: { header?: unknown } } & Record<string, unknown>;
  const seen = new Set<string>();
  let next: URL | null = null;
  do {
    let url = "";
    const captureUrl = { onRequest: ({ request }: { request: Request }) => void (url = request.url) };
    const middleware = [...((options.middleware as unknown[] | undefined) ?? []), captureUrl];
    const result: Awaited<ReturnType<LooseGet>> = next
      ? await get(next.pathname, {
          ...options,
          middleware,
          params: { header: params?.header },
          baseUrl: next.origin,
          querySerializer: () => next!.search.slice(1),
        })
      : await get(path, { ...options, params, middleware });
    if (!result.response.ok) throw new ApiError(result.response.status, result.error, result.response);
    seen.add(url);
    yield { items: (result.data ?? []) as ListItem<P>[], response: result.response, url };
    next = nextPageUrl(result.response.headers.get("Link"), url);
    if (next && seen.has(next.href)) throw new Error(`Link rel="next" of ${url} leads back to ${next.href}`);
  } while (next);
}

/** Every item of a paged list, in order, page after page (see `pages`). */
export async function* items<P extends ListPath>(client: LoyaltyClient, path: P, init?: ListInit<P>): AsyncGenerator<ListItem<P>> {
  for await (const page of pages(client, path, init)) yield* page.items;
}

/** All items of a paged list in one array (see `pages`): for lists you know to be small enough. */
export async function allItems<P extends ListPath>(client: LoyaltyClient, path: P, init?: ListInit<P>): Promise<ListItem<P>[]> {
  const all: ListItem<P>[] = [];
  for await (const page of pages(client, path, init)) all.push(...page.items);
  return all;
}
