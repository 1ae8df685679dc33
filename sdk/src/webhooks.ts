import type { components } from "./schema.js";

/**
 * Verifying a webhook delivery (Standard Webhooks: https://www.standardwebhooks.com). Any `standardwebhooks`
 * library does the same; this one needs nothing but Web Crypto (browsers, Node >= 20, Workers, Deno, Bun).
 */

type Schemas = components["schemas"];
/** A delivery's body: the envelope, its `data` by `type` (see the OpenAPI document's `webhooks`). */
export type WebhookEvent =
  | Schemas["EventLoggedWebhookEvent"]
  | Schemas["PointsAwardedWebhookEvent"]
  | Schemas["LimitReachedWebhookEvent"]
  | Schemas["StreakExtendedWebhookEvent"]
  | Schemas["ChallengeCompletedWebhookEvent"]
  | Schemas["LeaderboardPeriodClosedWebhookEvent"]
  | Schemas["RewardAdjustedWebhookEvent"]
  | Schemas["PointsRedeemedWebhookEvent"]
  | Schemas["PointsExpiredWebhookEvent"]
  | Schemas["TierChangedWebhookEvent"]
  | (Schemas["WebhookEvent"] & { type: "webhook.test" });

/** Why a delivery was refused: its signature, its timestamp or its headers. */
export class WebhookVerificationError extends Error {
  override readonly name = "WebhookVerificationError";
}

export interface VerifyOptions {
  /** How far `webhook-timestamp` may be from now, in seconds (default 300, as the Standard Webhooks libraries). */
  toleranceSeconds?: number;
  /** The current time in ms (tests). */
  now?: number;
}

type HeaderSource = Headers | Record<string, string | string[] | undefined>;

function header(headers: HeaderSource, name: string): string {
  const value = headers instanceof Headers ? headers.get(name) : (headers[name] ?? headers[name.toLowerCase()]);
  const text = Array.isArray(value) ? value[0] : value;
  if (typeof text !== "string" || text === "") throw new WebhookVerificationError(`missing header ${name}`);
  return text;
}

const fromBase64 = (text: string): Uint8Array => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

/** Equal without an early exit, so the time taken says nothing about where two signatures differ. */
function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i]! ^ b[i]!;
  return difference === 0;
}

/**
 * Checks a delivery and returns its event: `payload` is the raw body as received (a string, before any JSON
 * parsing), `headers` the request's (a `Headers` or Node's `req.headers`), `secret` the endpoint's `whsec_…`.
 * Throws WebhookVerificationError when no `v1` signature matches or the timestamp is off by more than the
 * tolerance. Deliveries are at least once: deduplicate on the event's `id` (the `webhook-id` header).
 */
export async function verifyWebhook(secret: string, payload: string, headers: HeaderSource, options: VerifyOptions = {}): Promise<WebhookEvent> {
  const id = header(headers, "webhook-id");
  const timestamp = header(headers, "webhook-timestamp");
  const signatures = header(headers, "webhook-signature");
  const seconds = Number(timestamp);
  if (!/^\d+$/.test(timestamp) || !Number.isSafeInteger(seconds)) throw new WebhookVerificationError("webhook-timestamp is not a number of seconds");
  const nowSeconds = Math.floor((options.now ?? Date.now()) / 1000);
  if (Math.abs(nowSeconds - seconds) > (options.toleranceSeconds ?? 300)) throw new WebhookVerificationError("webhook-timestamp is too far from now");

  let raw: Uint8Array;
  try {
    raw = fromBase64(secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret);
  } catch {
    throw new WebhookVerificationError("the secret is not whsec_ followed by base64");
  }
  const key = await crypto.subtle.importKey("raw", raw as BufferSource, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const expected = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${id}.${timestamp}.${payload}`)));
  // During a secret's rotation the header holds one signature per secret, space-separated.
  const matches = signatures.split(" ").some((entry) => {
    const [version, signature] = entry.split(",", 2);
    if (version !== "v1" || signature === undefined) return false;
    try {
      return equalBytes(fromBase64(signature), expected);
    } catch {
      return false;
    }
  });
  if (!matches) throw new WebhookVerificationError("no signature matches");
  return JSON.parse(payload) as WebhookEvent;
}
