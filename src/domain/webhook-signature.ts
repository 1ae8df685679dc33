import { fromBase64, toBase64 } from "../lib/bytes";

/**
 * Webhook signatures per the Standard Webhooks specification (https://www.standardwebhooks.com): a receiver
 * verifies them with any `standardwebhooks` library. The secret is `whsec_` + base64 of random bytes; the HMAC
 * key is those bytes. The signed content is `${id}.${timestamp}.${body}` (timestamp in seconds).
 */

export const WEBHOOK_SECRET_PREFIX = "whsec_";
/** Random bytes in a new secret (the specification asks for 24 to 64). */
const SECRET_BYTES = 32;

/** A new endpoint secret, `whsec_<base64>`. */
export function newWebhookSecret(): string {
  return WEBHOOK_SECRET_PREFIX + toBase64(crypto.getRandomValues(new Uint8Array(SECRET_BYTES)));
}

/** The HMAC key of a secret: the base64-decoded part after `whsec_`. */
export function webhookSigningKey(secret: string): Promise<CryptoKey> {
  const encoded = secret.startsWith(WEBHOOK_SECRET_PREFIX) ? secret.slice(WEBHOOK_SECRET_PREFIX.length) : secret;
  const raw = fromBase64(encoded);
  return crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
}

/** `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`. */
export async function webhookSignature(key: CryptoKey, id: string, timestampSeconds: number, body: string): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${id}.${timestampSeconds}.${body}`));
  return `v1,${toBase64(new Uint8Array(mac))}`;
}

/**
 * The headers of one delivery attempt: `webhook-id` (the event's id, the same on every retry),
 * `webhook-timestamp` (this attempt's time, seconds) and `webhook-signature`: one `v1,` signature per key,
 * space-separated (during a rotation the new secret's and the old one's; a receiver holding either verifies).
 */
export async function webhookHeaders(keys: readonly CryptoKey[], id: string, timestampSeconds: number, body: string): Promise<Record<string, string>> {
  const signatures = await Promise.all(keys.map((key) => webhookSignature(key, id, timestampSeconds, body)));
  return {
    "content-type": "application/json",
    "webhook-id": id,
    "webhook-timestamp": String(timestampSeconds),
    "webhook-signature": signatures.join(" "),
  };
}
