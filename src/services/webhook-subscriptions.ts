import { getDb } from "../db/client";
import { enabledEndpointEventTypes } from "../db/webhooks";
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from "../domain/webhook-events";
import { TtlCache } from "../lib/ttl-cache";

/**
 * How long an isolate trusts what it read of a project's subscriptions: an endpoint created, changed, disabled or
 * deleted elsewhere reaches the stats consumer's fan-out within this time (at once in the isolate that wrote).
 */
export const SUBSCRIPTIONS_CACHE_MS = 5_000;

const NONE: ReadonlySet<WebhookEventType> = new Set();
const KNOWN = new Set<string>(WEBHOOK_EVENT_TYPES);

/** Projects without endpoints are cached too (most are): one D1 read per project per few seconds at most. */
const subscriptions = new TtlCache<string, ReadonlySet<WebhookEventType>>(10_000, SUBSCRIPTIONS_CACHE_MS);
/**
 * Changes made through this isolate, per project. A read that began before a change finished may hold the state
 * before it: it answers the caller that asked but is not cached.
 */
const changes = new TtlCache<string, number>(10_000, 60_000);

/** Called after every change of a project's endpoints made in this isolate. */
export function forgetSubscriptions(projectKey: string): void {
  changes.set(projectKey, (changes.get(projectKey) ?? 0) + 1);
  subscriptions.delete(projectKey);
}

/**
 * The event types a project's enabled webhook endpoints subscribe to (empty: nothing to send), cached per
 * isolate for SUBSCRIPTIONS_CACHE_MS so the stats consumer asks D1 at most once per project per few seconds.
 * A project with no endpoint answers the empty set; only a failing D1 throws.
 */
export async function subscribedTypes(env: Env, projectKey: string): Promise<ReadonlySet<WebhookEventType>> {
  const cached = subscriptions.get(projectKey);
  if (cached !== undefined) return cached;
  const changesBefore = changes.get(projectKey) ?? 0;
  const lists = await enabledEndpointEventTypes(getDb(env.DB), projectKey);
  const types = lists.length === 0 ? NONE : new Set(lists.flat().filter((type): type is WebhookEventType => KNOWN.has(type)));
  if ((changes.get(projectKey) ?? 0) === changesBefore) subscriptions.set(projectKey, types);
  return types;
}
