import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { getDb } from "../../src/db/client";
import { trimEndpointDeliveries } from "../../src/db/webhooks";
import type { WebhookEvent, WebhookEventType } from "../../src/domain/webhook-events";
import { handleWebhooksBatch, MAX_ATTEMPTS_PER_BATCH, WEBHOOKS_QUEUE } from "../../src/queue/webhooks";
import type { CreatedWebhookEndpointBody, WebhookEndpointBody } from "../../src/routes/webhooks";
import { MAX_CONCURRENT_ATTEMPTS, sweepWebhookDeliveries, type Send } from "../../src/services/webhook-delivery";
import { subscribedTypes } from "../../src/services/webhook-subscriptions";
import { adminToken, api, newProject, type Credential } from "../helpers";

type Call = { url: string; headers: Record<string, string>; body: string };

/** A receiver: answers the statuses given in turn (the last one repeats), and records every request. */
function receiver(statuses: number[]) {
  const calls: Call[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const send: Send = async (url, init) => {
    calls.push({ url, headers: Object.fromEntries(new Headers(init.headers).entries()), body: String(init.body) });
    const status = statuses[Math.min(calls.length, statuses.length) - 1]!;
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await scheduler.wait(1);
    inFlight -= 1;
    return new Response(`answer ${calls.length}`, { status, headers: status >= 300 && status < 400 ? { location: "https://elsewhere.example.com/" } : {} });
  };
  return { send, calls, maxInFlight: () => maxInFlight };
}

/** What the consumer queues (retries, deliveries left for another batch), recorded instead of sent. */
function recordingQueue() {
  const sent: Array<{ body: { kind: string; deliveryId: string }; delaySeconds: number | undefined }> = [];
  const queue = {
    send: async (body: unknown, options?: QueueSendOptions) => void sent.push({ body: body as never, delaySeconds: options?.delaySeconds }),
    sendBatch: async (messages: Iterable<MessageSendRequest<unknown>>) => {
      for (const message of messages) sent.push({ body: message.body as never, delaySeconds: message.delaySeconds });
    },
  } as unknown as Queue;
  return { environment: { ...env, WEBHOOKS_QUEUE: queue } as Env, sent };
}

async function run(bodies: unknown[], send: Send, environment: Env) {
  const messages = bodies.map((body, i) => ({ id: `wm-${i}-${crypto.randomUUID()}`, timestamp: new Date(), attempts: 1, body }));
  const batch = createMessageBatch(WEBHOOKS_QUEUE, messages);
  const ctx = createExecutionContext();
  await handleWebhooksBatch(batch, environment, send);
  return getQueueResult(batch, ctx);
}

const webhookEvent = (projectId: string, type: WebhookEventType = "points.awarded"): WebhookEvent => ({
  id: `evt_${crypto.randomUUID()}`,
  type,
  createdAt: new Date().toISOString(),
  projectId,
  data: { userId: "alice", points: 5, balance: 5, sequence: 1 },
});
const fanout = (...events: WebhookEvent[]) => ({ kind: "webhook_events", events });

async function project() {
  const projectId = newProject();
  return { projectId, admin: { bearer: await adminToken(projectId) } as Credential };
}

async function endpointOf(admin: Credential, eventTypes: WebhookEventType[] = ["points.awarded"]) {
  const res = await api<CreatedWebhookEndpointBody>("POST", "/v1/admin/webhooks", {
    auth: admin,
    body: { url: `https://hooks.example.com/${crypto.randomUUID()}`, eventTypes },
  });
  if (res.status !== 201) throw new Error(res.text);
  return res.json;
}

type DeliveryRow = { id: string; status: string; attempts: number; response_status: number | null; next_attempt_at: number | null; last_error: string | null };
const deliveriesOf = async (endpointId: string) =>
  (
    await env.DB.prepare(
      "SELECT id, status, attempts, response_status, next_attempt_at, last_error FROM webhook_deliveries WHERE endpoint_id = ? ORDER BY created_at, id",
    )
      .bind(endpointId)
      .all<DeliveryRow>()
  ).results;

/** Time passes: the delivery's next attempt is due now. */
const dueNow = (deliveryId: string) =>
  env.DB.prepare("UPDATE webhook_deliveries SET next_attempt_at = ? WHERE id = ?")
    .bind(Date.now() - 1, deliveryId)
    .run();

describe("webhooks queue consumer", () => {
  it("delivers each event to the subscribed endpoints of its project only, signed so that standardwebhooks verifies it", async () => {
    const a = await project();
    const b = await project();
    const points = await endpointOf(a.admin, ["points.awarded"]);
    const streaks = await endpointOf(a.admin, ["streak.extended"]);
    const other = await endpointOf(b.admin, ["points.awarded"]);
    const { environment, sent } = recordingQueue();
    const rx = receiver([200]);
    const event = webhookEvent(a.projectId);
    const result = await run([fanout(event)], rx.send, environment);
    expect(result.explicitAcks).toHaveLength(1);
    expect(rx.calls.map((call) => call.url)).toEqual([points.url]);
    const [call] = rx.calls;
    expect(call!.body).toBe(JSON.stringify(event));
    expect(call!.headers["webhook-id"]).toBe(event.id);
    expect(new Webhook(points.secret).verify(call!.body, call!.headers)).toEqual(event);
    expect(() => new Webhook(other.secret).verify(call!.body, call!.headers)).toThrow();
    expect(await deliveriesOf(points.id)).toEqual([expect.objectContaining({ status: "succeeded", attempts: 1, response_status: 200, next_attempt_at: null })]);
    expect(await deliveriesOf(streaks.id)).toEqual([]);
    expect(await deliveriesOf(other.id)).toEqual([]);
    expect(sent).toEqual([]);
  });

  it("retries a receiver answering 500 three times on the schedule, with the same webhook-id, until it succeeds", async () => {
    const { projectId, admin } = await project();
    const endpoint = await endpointOf(admin);
    const { environment, sent } = recordingQueue();
    const rx = receiver([500, 500, 500, 200]);
    const event = webhookEvent(projectId);
    await run([fanout(event)], rx.send, environment);
    const [delivery] = await deliveriesOf(endpoint.id);
    expect(delivery).toMatchObject({ status: "pending", attempts: 1, response_status: 500, last_error: "answered 500" });

    for (const delay of [5, 300, 1_800]) {
      const retry = sent.shift()!;
      expect(retry).toEqual({ body: { kind: "webhook_delivery", deliveryId: delivery!.id }, delaySeconds: delay });
      await dueNow(delivery!.id);
      const result = await run([retry.body], rx.send, environment);
      expect(result.explicitAcks).toHaveLength(1);
    }
    expect(sent).toEqual([]);
    expect(rx.calls).toHaveLength(4);
    expect(new Set(rx.calls.map((call) => call.headers["webhook-id"]))).toEqual(new Set([event.id]));
    for (const call of rx.calls) expect(new Webhook(endpoint.secret).verify(call.body, call.headers)).toEqual(event);
    expect(await deliveriesOf(endpoint.id)).toEqual([
      expect.objectContaining({ status: "succeeded", attempts: 4, response_status: 200, next_attempt_at: null, last_error: null }),
    ]);
    const shown = await api<WebhookEndpointBody>("GET", `/v1/admin/webhooks/${endpoint.id}`, { auth: admin });
    expect(shown.json).toMatchObject({ enabled: true, failingSince: null });
  });

  it("does not attempt a delivery whose retry message arrives before it is due (a stale or duplicate message)", async () => {
    const { projectId, admin } = await project();
    const endpoint = await endpointOf(admin);
    const { environment, sent } = recordingQueue();
    const rx = receiver([500, 200]);
    await run([fanout(webhookEvent(projectId))], rx.send, environment);
    const [delivery] = await deliveriesOf(endpoint.id);
    await env.DB.prepare("UPDATE webhook_deliveries SET next_attempt_at = ? WHERE id = ?")
      .bind(Date.now() + 3_600_000, delivery!.id)
      .run();
    const result = await run([sent[0]!.body, sent[0]!.body], rx.send, environment);
    expect(result.explicitAcks).toHaveLength(2);
    expect(rx.calls).toHaveLength(1);
    // Due now: two messages for it (a sweep's and a late retry) make one attempt.
    await dueNow(delivery!.id);
    await run([sent[0]!.body, sent[0]!.body], rx.send, environment);
    expect(rx.calls).toHaveLength(2);
    expect((await deliveriesOf(endpoint.id))[0]).toMatchObject({ status: "succeeded", attempts: 2 });
  });

  it("creates no second delivery when a fan-out is redelivered", async () => {
    const { projectId, admin } = await project();
    const endpoint = await endpointOf(admin);
    const { environment } = recordingQueue();
    const rx = receiver([200]);
    const message = fanout(webhookEvent(projectId), webhookEvent(projectId));
    await run([message], rx.send, environment);
    await run([message, message], rx.send, environment);
    expect(rx.calls).toHaveLength(2);
    expect(await deliveriesOf(endpoint.id)).toHaveLength(2);

    // Redelivered while its attempt is still pending: nothing new, no attempt before the retry is due.
    const failing = receiver([500]);
    const next = fanout(webhookEvent(projectId));
    await run([next], failing.send, environment);
    await run([next], failing.send, environment);
    expect(failing.calls).toHaveLength(1);
    expect(await deliveriesOf(endpoint.id)).toHaveLength(3);
  });

  it("retries the fan-out when D1 fails to record an attempt, and the redelivery attempts the delivery again", async () => {
    const { projectId, admin } = await project();
    const endpoint = await endpointOf(admin);
    const { environment } = recordingQueue();
    const event = webhookEvent(projectId);
    // D1 takes the insert (its first batch) and fails the next one, which records the attempt.
    let batches = 0;
    const flaky = new Proxy(env.DB, {
      get(target, property) {
        if (property === "batch") {
          return (statements: D1PreparedStatement[]) =>
            ++batches > 1 ? Promise.reject(new Error("D1_ERROR: network connection lost")) : target.batch(statements);
        }
        const value = Reflect.get(target, property);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const first = receiver([200]);
    const result = await run([fanout(event)], first.send, { ...environment, DB: flaky } as Env);
    expect(result.retryMessages).toHaveLength(1);
    expect(first.calls).toHaveLength(1);
    const [left] = await deliveriesOf(endpoint.id);
    expect(left).toMatchObject({ status: "pending", attempts: 1 });
    // Leased while the attempt ran: the redelivery comes once the lease is over.
    expect(left!.next_attempt_at! - Date.now()).toBeGreaterThan(30_000);
    await dueNow(left!.id);
    const second = receiver([200]);
    await run([fanout(event)], second.send, environment);
    expect(second.calls.map((call) => call.headers["webhook-id"])).toEqual([event.id]);
    expect(await deliveriesOf(endpoint.id)).toEqual([expect.objectContaining({ id: left!.id, status: "succeeded", attempts: 2 })]);
  });

  it("disables an endpoint answering 410 and stops its deliveries", async () => {
    const { projectId, admin } = await project();
    const endpoint = await endpointOf(admin);
    const { environment, sent } = recordingQueue();
    expect(await subscribedTypes(env, projectId)).toEqual(new Set(["points.awarded"]));
    const rx = receiver([410]);
    await run([fanout(webhookEvent(projectId))], rx.send, environment);
    expect(await deliveriesOf(endpoint.id)).toEqual([expect.objectContaining({ status: "failed", response_status: 410, next_attempt_at: null })]);
    expect(sent).toEqual([]);
    const shown = await api<WebhookEndpointBody>("GET", `/v1/admin/webhooks/${endpoint.id}`, { auth: admin });
    expect(shown.json).toMatchObject({ enabled: false, disabledReason: "410 Gone" });
    // The fan-out no longer picks it, and this isolate's subscriptions know at once.
    expect(await subscribedTypes(env, projectId)).toEqual(new Set());
    await run([fanout(webhookEvent(projectId))], rx.send, environment);
    expect(rx.calls).toHaveLength(1);
    expect(await deliveriesOf(endpoint.id)).toHaveLength(1);
  });

  it("treats a redirect, a timeout or a network error as a failure, keeping at most 4 KiB of the answer", async () => {
    const { projectId, admin } = await project();
    const endpoint = await endpointOf(admin);
    const { environment } = recordingQueue();
    await run([fanout(webhookEvent(projectId))], receiver([301]).send, environment);
    const big: Send = async () => new Response("é".repeat(5_000), { status: 500 });
    await run([fanout(webhookEvent(projectId))], big, environment);
    const timeout: Send = async () => {
      throw new DOMException("The operation timed out.", "TimeoutError");
    };
    await run([fanout(webhookEvent(projectId))], timeout, environment);
    const [redirect, large, slow] = await deliveriesOf(endpoint.id);
    expect(redirect).toMatchObject({ status: "pending", response_status: 301, last_error: "redirect (301) not followed" });
    expect(slow).toMatchObject({ status: "pending", response_status: null, last_error: "no answer within 10 s" });
    const kept = await env.DB.prepare("SELECT response_text FROM webhook_deliveries WHERE id = ?").bind(large!.id).first<{ response_text: string }>();
    expect(new TextEncoder().encode(kept!.response_text).byteLength).toBe(4_096);
    expect(kept!.response_text).toBe("é".repeat(2_048));
  });

  it("signs with both secrets during a rotation's overlap and with the new one only after it", async () => {
    const { projectId, admin } = await project();
    const endpoint = await endpointOf(admin);
    const rotated = await api<CreatedWebhookEndpointBody>("POST", `/v1/admin/webhooks/${endpoint.id}/rotate-secret`, { auth: admin });
    const { environment } = recordingQueue();
    const rx = receiver([200]);
    await run([fanout(webhookEvent(projectId))], rx.send, environment);
    const during = rx.calls[0]!;
    expect(during.headers["webhook-signature"]!.split(" ")).toHaveLength(2);
    expect(new Webhook(endpoint.secret).verify(during.body, during.headers)).toBeTruthy();
    expect(new Webhook(rotated.json.secret).verify(during.body, during.headers)).toBeTruthy();

    // The 24 hours have passed.
    await env.DB.prepare("UPDATE webhook_endpoints SET previous_secret_expires_at = ? WHERE id = ?")
      .bind(Date.now() - 1, endpoint.id)
      .run();
    await run([fanout(webhookEvent(projectId))], rx.send, environment);
    const after = rx.calls[1]!;
    expect(after.headers["webhook-signature"]!.split(" ")).toHaveLength(1);
    expect(new Webhook(rotated.json.secret).verify(after.body, after.headers)).toBeTruthy();
    expect(() => new Webhook(endpoint.secret).verify(after.body, after.headers)).toThrow(/No matching signature/);
    expect((await api<WebhookEndpointBody>("GET", `/v1/admin/webhooks/${endpoint.id}`, { auth: admin })).json.previousSecretExpiresAt).toBeNull();
  });

  it("fails a delivery whose retries would pass 3 days, and disables an endpoint failing for 3 days", async () => {
    const { projectId, admin } = await project();
    const endpoint = await endpointOf(admin);
    const { environment, sent } = recordingQueue();
    const rx = receiver([500]);
    await run([fanout(webhookEvent(projectId)), fanout(webhookEvent(projectId))], rx.send, environment);
    const [old, recent] = await deliveriesOf(endpoint.id);
    const shown = await api<WebhookEndpointBody>("GET", `/v1/admin/webhooks/${endpoint.id}`, { auth: admin });
    expect(shown.json.failingSince).not.toBeNull();

    // The first delivery was first attempted 3 days ago (its next retry would pass the window); the endpoint has
    // been failing since then, with no success.
    const threeDaysAgo = Date.now() - 3 * 86_400_000 - 60_000;
    await env.DB.prepare("UPDATE webhook_deliveries SET created_at = ?, next_attempt_at = ? WHERE id = ?")
      .bind(threeDaysAgo, Date.now() - 1, old!.id)
      .run();
    await env.DB.prepare("UPDATE webhook_endpoints SET failing_since = ? WHERE id = ?").bind(threeDaysAgo, endpoint.id).run();
    sent.length = 0;
    await run([{ kind: "webhook_delivery", deliveryId: old!.id }], rx.send, environment);

    expect(await deliveriesOf(endpoint.id)).toEqual([
      expect.objectContaining({ id: old!.id, status: "failed", attempts: 2, next_attempt_at: null }),
      expect.objectContaining({ id: recent!.id, status: "failed", last_error: "stopped: the endpoint was disabled (failing for 3 days)" }),
    ]);
    expect(sent).toEqual([]);
    const disabled = await api<WebhookEndpointBody>("GET", `/v1/admin/webhooks/${endpoint.id}`, { auth: admin });
    expect(disabled.json).toMatchObject({ enabled: false, disabledReason: "failing for 3 days" });
    // Its pending retries stop: a retry message that comes anyway attempts nothing.
    await run([{ kind: "webhook_delivery", deliveryId: recent!.id }], rx.send, environment);
    expect(rx.calls).toHaveLength(3);
  });

  it("keeps an endpoint whose failures are broken by a success", async () => {
    const { projectId, admin } = await project();
    const endpoint = await endpointOf(admin);
    const { environment } = recordingQueue();
    await run([fanout(webhookEvent(projectId))], receiver([500]).send, environment);
    await env.DB.prepare("UPDATE webhook_endpoints SET failing_since = ? WHERE id = ?")
      .bind(Date.now() - 2 * 86_400_000, endpoint.id)
      .run();
    await run([fanout(webhookEvent(projectId))], receiver([200]).send, environment);
    await run([fanout(webhookEvent(projectId))], receiver([500]).send, environment);
    const shown = await api<WebhookEndpointBody>("GET", `/v1/admin/webhooks/${endpoint.id}`, { auth: admin });
    expect(shown.json.enabled).toBe(true);
    expect(Date.now() - Date.parse(shown.json.failingSince!)).toBeLessThan(60_000);
  });

  it("bounds the attempts of a batch and the requests in flight; the rest go out as their own messages", async () => {
    const { projectId, admin } = await project();
    const endpoint = await endpointOf(admin);
    const { environment, sent } = recordingQueue();
    const rx = receiver([200]);
    const events = Array.from({ length: MAX_ATTEMPTS_PER_BATCH + 5 }, () => webhookEvent(projectId));
    await run([fanout(...events)], rx.send, environment);
    expect(rx.calls).toHaveLength(MAX_ATTEMPTS_PER_BATCH);
    expect(rx.maxInFlight()).toBeLessThanOrEqual(MAX_CONCURRENT_ATTEMPTS);
    expect(sent).toHaveLength(5);
    expect(sent.every((message) => message.body.kind === "webhook_delivery" && message.delaySeconds === 0)).toBe(true);
    await run(
      sent.map((message) => message.body),
      rx.send,
      environment,
    );
    expect(rx.calls).toHaveLength(MAX_ATTEMPTS_PER_BATCH + 5);
    expect(new Set(rx.calls.map((call) => call.headers["webhook-id"])).size).toBe(MAX_ATTEMPTS_PER_BATCH + 5);
    const rows = await deliveriesOf(endpoint.id);
    expect(rows.every((row) => row.status === "succeeded")).toBe(true);
  });

  it("drops a message that is neither kind, and retries the messages D1 failed for", async () => {
    const { projectId, admin } = await project();
    await endpointOf(admin);
    const { environment } = recordingQueue();
    const junk = await run([{ kind: "something else" }, "text"], receiver([200]).send, environment);
    expect(junk.explicitAcks).toHaveLength(2);
    const down = {
      ...environment,
      DB: new Proxy(env.DB, {
        get: (target, property) =>
          property === "batch" || property === "prepare"
            ? () => {
                throw new Error("D1_ERROR: unavailable");
              }
            : Reflect.get(target, property),
      }),
    } as Env;
    const rx = receiver([200]);
    const result = await run([fanout(webhookEvent(projectId)), { kind: "webhook_delivery", deliveryId: "whd_x" }], rx.send, down);
    expect(result.retryMessages).toHaveLength(2);
    expect(rx.calls).toHaveLength(0);
  });
});

describe("subscriptions the stats consumer asks for", () => {
  it("are the enabled endpoints' event types, seen at once by the isolate that changed them", async () => {
    const { projectId, admin } = await project();
    expect(await subscribedTypes(env, projectId)).toEqual(new Set());
    const first = await endpointOf(admin, ["points.awarded", "challenge.completed"]);
    await endpointOf(admin, ["challenge.completed", "streak.extended"]);
    expect(await subscribedTypes(env, projectId)).toEqual(new Set(["points.awarded", "challenge.completed", "streak.extended"]));
    await api("PUT", `/v1/admin/webhooks/${first.id}`, { auth: admin, body: { enabled: false } });
    expect(await subscribedTypes(env, projectId)).toEqual(new Set(["challenge.completed", "streak.extended"]));
    const listed = await api<WebhookEndpointBody[]>("GET", "/v1/admin/webhooks", { auth: admin });
    for (const endpoint of listed.json) await api("DELETE", `/v1/admin/webhooks/${endpoint.id}`, { auth: admin });
    expect(await subscribedTypes(env, projectId)).toEqual(new Set());
  });
});

describe("the webhook sweep", () => {
  it("re-sends pending deliveries whose retry message was lost, deletes records past 14 days, and caps each endpoint", async () => {
    const { projectId, admin } = await project();
    const endpoint = await endpointOf(admin);
    const { environment, sent } = recordingQueue();
    await run([fanout(webhookEvent(projectId), webhookEvent(projectId), webhookEvent(projectId))], receiver([500, 200, 200]).send, environment);
    const made = await deliveriesOf(endpoint.id);
    const lost = made.find((row) => row.status === "pending");
    const [expired, kept] = made.filter((row) => row.status === "succeeded");
    expect([lost, expired, kept].every(Boolean)).toBe(true);
    // The retry message never came: the attempt is 6 minutes overdue. Another record is 15 days old.
    await env.DB.prepare("UPDATE webhook_deliveries SET next_attempt_at = ? WHERE id = ?")
      .bind(Date.now() - 6 * 60_000, lost!.id)
      .run();
    await env.DB.prepare("UPDATE webhook_deliveries SET created_at = ? WHERE id = ?")
      .bind(Date.now() - 15 * 86_400_000, expired!.id)
      .run();
    sent.length = 0;
    await sweepWebhookDeliveries(environment);
    expect(sent).toContainEqual({ body: { kind: "webhook_delivery", deliveryId: lost!.id }, delaySeconds: 0 });
    const rows = await deliveriesOf(endpoint.id);
    expect(rows.map((row) => row.id).sort()).toEqual([lost!.id, kept!.id].sort());
    // Made due now: the next sweep does not send it again unless it is lost again.
    sent.length = 0;
    await sweepWebhookDeliveries(environment);
    expect(sent.filter((message) => message.body.deliveryId === lost!.id)).toEqual([]);

    // The per-endpoint cap keeps the newest, and every delivery still pending (it is still to be delivered).
    await run([fanout(webhookEvent(projectId), webhookEvent(projectId), webhookEvent(projectId))], receiver([200]).send, environment);
    const all = await deliveriesOf(endpoint.id);
    for (const [i, row] of all.entries()) {
      await env.DB.prepare("UPDATE webhook_deliveries SET created_at = ? WHERE id = ?")
        .bind(Date.now() - 60_000 + i, row.id)
        .run();
    }
    const olderPending = all.slice(0, -3).filter((row) => row.status === "pending");
    expect(olderPending.map((row) => row.id)).toEqual([lost!.id]);
    expect(await trimEndpointDeliveries(getDb(env.DB), endpoint.id, { keep: 3, limit: 100, now: Date.now() })).toBe(all.length - 3 - 1);
    expect((await deliveriesOf(endpoint.id)).map((row) => row.id)).toEqual([lost!.id, ...all.slice(-3).map((row) => row.id)]);
  });
});
