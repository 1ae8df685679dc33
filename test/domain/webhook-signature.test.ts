import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { newWebhookSecret, webhookHeaders, webhookSigningKey } from "../../src/domain/webhook-signature";

// The receiver's side is the npm `standardwebhooks` package (what the README tells receivers to use), not a copy
// of our signer: whatever it accepts, every Standard Webhooks library accepts.
describe("webhook signatures (Standard Webhooks)", () => {
  const body = JSON.stringify({
    id: "evt_1",
    type: "points.awarded",
    createdAt: "2026-01-01T00:00:00.000Z",
    projectId: "demo",
    data: { userId: "alice", points: 5 },
  });

  it("makes secrets of whsec_ and base64 of 32 random bytes", () => {
    const secret = newWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(atob(secret.slice(6))).toHaveLength(32);
    expect(newWebhookSecret()).not.toBe(secret);
  });

  it("signs so that the standardwebhooks package's Webhook.verify accepts the delivery", async () => {
    const secret = newWebhookSecret();
    const now = Math.floor(Date.now() / 1000);
    const headers = await webhookHeaders([await webhookSigningKey(secret)], "evt_1", now, body);
    expect(headers["webhook-id"]).toBe("evt_1");
    expect(headers["webhook-timestamp"]).toBe(String(now));
    expect(headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(headers["content-type"]).toBe("application/json");
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it("is refused for another secret, another body, another id or a stale timestamp", async () => {
    const secret = newWebhookSecret();
    const key = await webhookSigningKey(secret);
    const now = Math.floor(Date.now() / 1000);
    const headers = await webhookHeaders([key], "evt_1", now, body);
    expect(() => new Webhook(newWebhookSecret()).verify(body, headers)).toThrow(/No matching signature/);
    expect(() => new Webhook(secret).verify(body.replace("5", "6"), headers)).toThrow(/No matching signature/);
    expect(() => new Webhook(secret).verify(body, { ...headers, "webhook-id": "evt_2" })).toThrow(/No matching signature/);
    const old = await webhookHeaders([key], "evt_1", now - 600, body);
    expect(() => new Webhook(secret).verify(body, old)).toThrow(/too old/);
  });

  it("carries one signature per key during a rotation, so a receiver holding either secret verifies", async () => {
    const [current, previous] = [newWebhookSecret(), newWebhookSecret()];
    const now = Math.floor(Date.now() / 1000);
    const headers = await webhookHeaders([await webhookSigningKey(current), await webhookSigningKey(previous)], "evt_9", now, body);
    expect(headers["webhook-signature"]!.split(" ")).toHaveLength(2);
    expect(new Webhook(current).verify(body, headers)).toEqual(JSON.parse(body));
    expect(new Webhook(previous).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(newWebhookSecret()).verify(body, headers)).toThrow(/No matching signature/);
  });
});
