import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from "jose";
import { TtlCache } from "../lib/ttl-cache";

/**
 * Key sets of identity providers (the deployment's JWKS_URL and projects' own providers), fetched with a time
 * and size bound and cached per URL. A key id the cached set lacks triggers one refetch at most every
 * REFETCH_COOLDOWN_MS (providers rotate keys); a failed refetch keeps serving the last good set while it is
 * younger than STALE_LIMIT_MS.
 */
export const JWKS_FETCH_TIMEOUT_MS = 5_000;
export const JWKS_MAX_BYTES = 64 * 1024;
export const JWKS_FRESH_MS = 10 * 60_000;
const REFETCH_COOLDOWN_MS = 30_000;
const STALE_LIMIT_MS = 24 * 3_600_000;
/** After a failed first fetch, tokens of that provider are refused for this long before the next try. */
const FAILED_RETRY_MS = 5_000;

type KeySet = { getKey: JWTVerifyGetKey; fetchedAt: number };
type Entry = { current: KeySet | null; loading: Promise<KeySet | null> | null; lastAttempt: number };

/** Bounded in number: project configurations name the URLs, and at most this many are kept. */
const keySets = new TtlCache<string, Entry>(1_000, STALE_LIMIT_MS);

async function fetchKeySet(url: string): Promise<KeySet> {
  // No redirects: the configured https URL is the only place keys come from.
  const response = await fetch(url, { headers: { accept: "application/json" }, redirect: "manual", signal: AbortSignal.timeout(JWKS_FETCH_TIMEOUT_MS) });
  if (!response.ok) throw new Error(`JWKS ${url} answered ${response.status}`);
  const declared = Number(response.headers.get("content-length") ?? "0");
  if (declared > JWKS_MAX_BYTES) throw new Error(`JWKS ${url} is larger than ${JWKS_MAX_BYTES} bytes`);
  const text = await readCapped(response, JWKS_MAX_BYTES);
  const jwks = JSON.parse(text) as JSONWebKeySet;
  return { getKey: createLocalJWKSet(jwks), fetchedAt: Date.now() };
}

/** The body as text, failing past `maxBytes` without reading further. */
async function readCapped(response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new Error(`JWKS body is larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.byteLength;
  }
  return new TextDecoder().decode(all);
}

/** The key set at `url`, refetched when older than JWKS_FRESH_MS or (with `refresh`) past the cooldown. */
async function keySet(url: string, refresh: boolean): Promise<KeySet | null> {
  let entry = keySets.get(url);
  if (!entry) {
    entry = { current: null, loading: null, lastAttempt: 0 };
    keySets.set(url, entry);
  }
  const now = Date.now();
  const stale = !entry.current || now - entry.current.fetchedAt > JWKS_FRESH_MS || refresh;
  if (stale && !entry.loading && now - entry.lastAttempt >= (entry.current ? REFETCH_COOLDOWN_MS : FAILED_RETRY_MS)) {
    const target = entry;
    target.lastAttempt = now;
    target.loading = fetchKeySet(url)
      .then((fresh) => (target.current = fresh))
      .catch((error: unknown) => {
        console.warn("JWKS fetch failed", url, String(error));
        return target.current && Date.now() - target.current.fetchedAt < STALE_LIMIT_MS ? target.current : null;
      })
      .finally(() => (target.loading = null));
  }
  return entry.loading ? entry.loading : entry.current;
}

/** A key resolver for jose's jwtVerify over the key set at `url`. */
export function remoteKeySet(url: string): JWTVerifyGetKey {
  return async (header, token) => {
    const set = await keySet(url, false);
    if (!set) throw new Error(`no key set from ${url}`);
    try {
      return await set.getKey(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
      const refreshed = await keySet(url, true);
      if (!refreshed || refreshed === set) throw error;
      return refreshed.getKey(header, token);
    }
  };
}
