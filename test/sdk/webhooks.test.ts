// The client's webhook verification against the signer the Worker uses (src/domain/webhook-signature.ts) and
// against the reference library's signer (standardwebhooks' Webhook.sign): the same deliveries verify, tampered
// or stale ones do not.
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { verifyWebhook, WebhookVerificationError } from "../../sdk/src/index.ts";
import { newWebhookSecret, webhookHeaders, webhookSigningKey } from "../../src/domain/webhook-signature";

const event = {
  id: "evt_1_challenge.completed",
  type: "challenge.completed",
  createdAt: "2026-11-28T10:00:00.000Z",
  projectId: "demo",
  data: { userId: "carol", sequence: 3 },
};
const payload = JSON.stringify(event);
const NOW = Date.parse("2026-11-28T10:00:05.000Z");
const seconds = Math.floor(NOW / 1000);

describe("verifyWebhook", () => {
  it("verifies what the Worker signs, with either secret during a rotation, and returns the event", async () => {
    const [current, previous] = [newWebhookSecret(), newWebhookSecret()];
    const headers = await webhookHeaders([await webhookSigningKey(current), await webhookSigningKey(previous)], event.id, seconds, payload);
    expect(await verifyWebhook(current, payload, headers, { now: NOW })).toEqual(event);
    expect(await verifyWebhook(previous, payload, new Headers(headers), { now: NOW })).toEqual(event);
    await expect(verifyWebhook(newWebhookSecret(), payload, headers, { now: NOW })).rejects.toThrow(WebhookVerificationError);
  });

  it("verifies what the reference library signs, and refuses a tampered body, a stale timestamp and missing headers", async () => {
    const secret = newWebhookSecret();
    const signature = new Webhook(secret).sign(event.id, new Date(NOW), payload);
    const headers = { "webhook-id": event.id, "webhook-timestamp": String(seconds), "webhook-signature": signature };
    expect(await verifyWebhook(secret, payload, headers, { now: NOW })).toEqual(event);
    await expect(verifyWebhook(secret, payload.replace("carol", "mallory"), headers, { now: NOW })).rejects.toThrow("no signature matches");
    await expect(verifyWebhook(secret, payload, headers, { now: NOW + 301_000 })).rejects.toThrow("too far from now");
    await expect(verifyWebhook(secret, payload, { ...headers, "webhook-id": undefined }, { now: NOW })).rejects.toThrow("missing header webhook-id");
    await expect(verifyWebhook(secret, payload, { ...headers, "webhook-signature": "v2,abc" }, { now: NOW })).rejects.toThrow("no signature matches");
  });
});
