import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { CreatedWebhookEndpointBody, WebhookDeliveryBody, WebhookEndpointBody } from "../../src/routes/webhooks";
import { adminToken, api, apiKeyWith, newProject, userToken, type Credential } from "../helpers";

type DeliveryPage = { items: WebhookDeliveryBody[]; nextCursor: string | null };

async function project() {
  const projectId = newProject();
  return { projectId, admin: { bearer: await adminToken(projectId) } as Credential };
}

const hookUrl = () => `https://hooks.example.com/${crypto.randomUUID()}`;

async function createEndpoint(auth: Credential, body: Record<string, unknown> = {}) {
  const res = await api<CreatedWebhookEndpointBody>("POST", "/v1/admin/webhooks", { auth, body: { url: hookUrl(), eventTypes: ["points.awarded"], ...body } });
  expect(res.status, res.text).toBe(201);
  return res.json;
}

/** Answers the Worker's outbound requests to `url` with the statuses given, in turn (the last one repeats). */
function receiveAt(url: string, statuses: number[]) {
  const calls: Array<{ headers: Headers; body: string }> = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const target = input instanceof Request ? input.url : String(input);
    if (target !== url) throw new Error(`unexpected fetch ${target}`);
    calls.push({ headers: new Headers(init?.headers), body: String(init?.body) });
    const status = statuses[Math.min(calls.length, statuses.length) - 1]!;
    return new Response(status === 204 ? null : `received ${calls.length}`, { status });
  });
  return calls;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("webhook endpoints", () => {
  it("creates an endpoint with a secret shown once, lists, reads, changes and deletes it", async () => {
    const { admin } = await project();
    const url = hookUrl();
    const created = await api<CreatedWebhookEndpointBody>("POST", "/v1/admin/webhooks", {
      auth: admin,
      body: { url, eventTypes: ["challenge.completed", "points.awarded"], description: "CRM sync" },
    });
    expect(created.status, created.text).toBe(201);
    expect(created.json).toMatchObject({
      url,
      eventTypes: ["challenge.completed", "points.awarded"],
      description: "CRM sync",
      enabled: true,
      disabledReason: null,
    });
    expect(created.json.id).toMatch(/^we_/);
    expect(created.json.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(atob(created.json.secret.slice("whsec_".length)).length).toBeGreaterThanOrEqual(24);

    const listed = await api<WebhookEndpointBody[]>("GET", "/v1/admin/webhooks", { auth: admin });
    expect(listed.status).toBe(200);
    expect(listed.json).toHaveLength(1);
    expect(listed.json[0]).not.toHaveProperty("secret");
    expect(listed.text).not.toContain(created.json.secret.slice(6));
    const one = await api<WebhookEndpointBody>("GET", `/v1/admin/webhooks/${created.json.id}`, { auth: admin });
    expect(one.json).toEqual(listed.json[0]);

    const changed = await api<WebhookEndpointBody>("PUT", `/v1/admin/webhooks/${created.json.id}`, {
      auth: admin,
      body: { eventTypes: ["event.logged"], enabled: false },
    });
    expect(changed.status, changed.text).toBe(200);
    expect(changed.json).toMatchObject({ url, eventTypes: ["event.logged"], description: "CRM sync", enabled: false, disabledReason: "disabled by an admin" });
    const enabled = await api<WebhookEndpointBody>("PUT", `/v1/admin/webhooks/${created.json.id}`, { auth: admin, body: { enabled: true } });
    expect(enabled.json).toMatchObject({ enabled: true, disabledReason: null, disabledAt: null });

    expect((await api("DELETE", `/v1/admin/webhooks/${created.json.id}`, { auth: admin })).status).toBe(204);
    expect((await api("GET", `/v1/admin/webhooks/${created.json.id}`, { auth: admin })).status).toBe(404);
    expect((await api("DELETE", `/v1/admin/webhooks/${created.json.id}`, { auth: admin })).status).toBe(404);
    expect((await api<WebhookEndpointBody[]>("GET", "/v1/admin/webhooks", { auth: admin })).json).toEqual([]);
  });

  it("stores the secret encrypted", async () => {
    const { admin } = await project();
    const created = await createEndpoint(admin);
    const row = await env.DB.prepare("SELECT secret_ciphertext FROM webhook_endpoints WHERE id = ?").bind(created.id).first<{ secret_ciphertext: string }>();
    expect(row!.secret_ciphertext).not.toContain(created.secret.slice(6));
    expect(row!.secret_ciphertext.length).toBeGreaterThan(40);
  });

  it("refuses bad input with 400 naming the field", async () => {
    const { admin } = await project();
    for (const [body, path] of [
      [{ eventTypes: ["points.awarded"] }, "url"],
      [{ url: "http://hooks.example.com/x", eventTypes: ["points.awarded"] }, "url"],
      [{ url: "https://10.0.0.5/x", eventTypes: ["points.awarded"] }, "url"],
      [{ url: "https://169.254.169.254/latest", eventTypes: ["points.awarded"] }, "url"],
      [{ url: "https://[::1]/x", eventTypes: ["points.awarded"] }, "url"],
      [{ url: "https://db.internal/x", eventTypes: ["points.awarded"] }, "url"],
      [{ url: "https://u:p@hooks.example.com/x", eventTypes: ["points.awarded"] }, "url"],
      [{ url: `https://hooks.example.com/${"a".repeat(2_000)}`, eventTypes: ["points.awarded"] }, "url"],
      [{ url: hookUrl(), eventTypes: [] }, "eventTypes"],
      [{ url: hookUrl() }, "eventTypes"],
      [{ url: hookUrl(), eventTypes: ["points.awarded", "points.awarded"] }, "eventTypes"],
      [{ url: hookUrl(), eventTypes: ["webhook.test"] }, "eventTypes.0"],
      [{ url: hookUrl(), eventTypes: ["nope"] }, "eventTypes.0"],
      [{ url: hookUrl(), eventTypes: ["points.awarded"], description: "x".repeat(501) }, "description"],
      [{ url: hookUrl(), eventTypes: ["points.awarded"], secret: "whsec_mine" }, "(root)"],
    ] as const) {
      const res = await api("POST", "/v1/admin/webhooks", { auth: admin, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(
        res.json.errors?.map((e) => e.path),
        JSON.stringify(body),
      ).toContain(path);
    }
    const endpoint = await createEndpoint(admin);
    const put = await api("PUT", `/v1/admin/webhooks/${endpoint.id}`, { auth: admin, body: { url: "https://192.168.1.10/hook" } });
    expect(put.status).toBe(400);
    expect(put.json.errors).toEqual([{ path: "url", message: "must not point at a private address" }]);
    const empty = await api("PUT", `/v1/admin/webhooks/${endpoint.id}`, { auth: admin, body: {} });
    expect(empty.status).toBe(400);
    const cursor = await api("GET", `/v1/admin/webhooks/${endpoint.id}/deliveries?cursor=nonsense`, { auth: admin });
    expect(cursor.status).toBe(400);
    expect(cursor.json.errors?.[0]?.path).toBe("cursor");
    const status = await api("GET", `/v1/admin/webhooks/${endpoint.id}/deliveries?status=lost`, { auth: admin });
    expect(status.json.errors?.[0]?.path).toBe("status");
  });

  it("allows at most 20 endpoints per project, also under concurrent creates", async () => {
    const { admin } = await project();
    const results = await Promise.all(
      Array.from({ length: 24 }, () => api("POST", "/v1/admin/webhooks", { auth: admin, body: { url: hookUrl(), eventTypes: ["points.awarded"] } })),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(20);
    const refused = results.filter((r) => r.status === 409);
    expect(refused).toHaveLength(4);
    expect(refused[0]!.json.message).toContain("20");
    expect((await api<WebhookEndpointBody[]>("GET", "/v1/admin/webhooks", { auth: admin })).json).toHaveLength(20);
  });

  it("needs webhooks:manage (or admin); user tokens are refused", async () => {
    const { projectId, admin } = await project();
    const manager = { apiKey: (await apiKeyWith(admin, ["webhooks:manage"])).apiKey };
    const other = { apiKey: (await apiKeyWith(admin, ["events:log", "keys:manage"])).apiKey };
    const full = { apiKey: (await apiKeyWith(admin, ["admin"])).apiKey };
    const created = await createEndpoint(manager);
    expect((await api("GET", `/v1/admin/webhooks/${created.id}`, { auth: full })).status).toBe(200);
    const denied = await api("GET", "/v1/admin/webhooks", { auth: other });
    expect(denied.status).toBe(403);
    expect(denied.json.message).toContain('"webhooks:manage"');
    expect((await api("POST", "/v1/admin/webhooks", { auth: other, body: { url: hookUrl(), eventTypes: ["points.awarded"] } })).status).toBe(403);
    expect((await api("GET", "/v1/admin/webhooks", { auth: { bearer: await userToken(projectId, "alice") } })).status).toBe(403);
    expect((await api("GET", "/v1/admin/webhooks")).status).toBe(401);
  });

  it("keeps projects apart: another project's endpoint and deliveries are 404", async () => {
    const a = await project();
    const b = await project();
    const endpoint = await createEndpoint(a.admin);
    const calls = receiveAt(endpoint.url, [200]);
    const delivery = await api<WebhookDeliveryBody>("POST", `/v1/admin/webhooks/${endpoint.id}/test`, { auth: a.admin });
    expect(delivery.status, delivery.text).toBe(200);
    for (const [method, path, body] of [
      ["GET", `/v1/admin/webhooks/${endpoint.id}`],
      ["PUT", `/v1/admin/webhooks/${endpoint.id}`, { enabled: false }],
      ["DELETE", `/v1/admin/webhooks/${endpoint.id}`],
      ["POST", `/v1/admin/webhooks/${endpoint.id}/rotate-secret`],
      ["POST", `/v1/admin/webhooks/${endpoint.id}/test`],
      ["GET", `/v1/admin/webhooks/${endpoint.id}/deliveries`],
      ["POST", `/v1/admin/webhooks/${endpoint.id}/deliveries/${delivery.json.id}/retry`],
    ] as const) {
      expect((await api(method, path, { auth: b.admin, body })).status, `${method} ${path}`).toBe(404);
    }
    expect((await api<WebhookEndpointBody[]>("GET", "/v1/admin/webhooks", { auth: b.admin })).json).toEqual([]);
    expect(calls).toHaveLength(1);
    expect((await api<WebhookEndpointBody>("GET", `/v1/admin/webhooks/${endpoint.id}`, { auth: a.admin })).json.enabled).toBe(true);
  });
});

describe("sending now: test events and retries", () => {
  it("sends webhook.test through the delivery path and answers the delivery", async () => {
    const { projectId, admin } = await project();
    const endpoint = await createEndpoint(admin);
    const calls = receiveAt(endpoint.url, [204]);
    const res = await api<WebhookDeliveryBody>("POST", `/v1/admin/webhooks/${endpoint.id}/test`, { auth: admin });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({
      endpointId: endpoint.id,
      eventType: "webhook.test",
      status: "succeeded",
      attempts: 1,
      responseStatus: 204,
      nextAttemptAt: null,
    });
    expect(calls).toHaveLength(1);
    const sent = JSON.parse(calls[0]!.body);
    expect(sent).toMatchObject({ id: res.json.eventId, type: "webhook.test", projectId, data: { endpointId: endpoint.id } });
    expect(calls[0]!.headers.get("webhook-id")).toBe(res.json.eventId);
    expect(calls[0]!.headers.get("content-type")).toBe("application/json");
    const page = await api<DeliveryPage>("GET", `/v1/admin/webhooks/${endpoint.id}/deliveries`, { auth: admin });
    expect(page.json.items.map((d) => d.id)).toEqual([res.json.id]);
  });

  it("retries one delivery now on request, with the same webhook-id", async () => {
    const { admin } = await project();
    const endpoint = await createEndpoint(admin);
    const calls = receiveAt(endpoint.url, [200, 200]);
    const first = await api<WebhookDeliveryBody>("POST", `/v1/admin/webhooks/${endpoint.id}/test`, { auth: admin });
    const again = await api<WebhookDeliveryBody>("POST", `/v1/admin/webhooks/${endpoint.id}/deliveries/${first.json.id}/retry`, { auth: admin });
    expect(again.status, again.text).toBe(200);
    expect(again.json).toMatchObject({ id: first.json.id, status: "succeeded", attempts: 2, responseText: "received 2" });
    expect(calls.map((call) => call.headers.get("webhook-id"))).toEqual([first.json.eventId, first.json.eventId]);
    expect((await api("POST", `/v1/admin/webhooks/${endpoint.id}/deliveries/whd_nope/retry`, { auth: admin })).status).toBe(404);
    // Deleting the endpoint deletes its delivery records.
    expect((await api("DELETE", `/v1/admin/webhooks/${endpoint.id}`, { auth: admin })).status).toBe(204);
    const left = await env.DB.prepare("SELECT count(*) AS n FROM webhook_deliveries WHERE endpoint_id = ?").bind(endpoint.id).first<{ n: number }>();
    expect(left!.n).toBe(0);
  });

  it("retries a delivery on request even while the queue consumer holds it leased", async () => {
    const { admin } = await project();
    const endpoint = await createEndpoint(admin);
    const calls = receiveAt(endpoint.url, [500, 200]);
    const first = await api<WebhookDeliveryBody>("POST", `/v1/admin/webhooks/${endpoint.id}/test`, { auth: admin });
    expect(first.json).toMatchObject({ status: "pending", attempts: 1 });
    // What a consumer's claim leaves: the attempt counted and the delivery leased a minute ahead.
    await env.DB.prepare("UPDATE webhook_deliveries SET attempts = 2, next_attempt_at = ? WHERE id = ?")
      .bind(Date.now() + 60_000, first.json.id)
      .run();
    const again = await api<WebhookDeliveryBody>("POST", `/v1/admin/webhooks/${endpoint.id}/deliveries/${first.json.id}/retry`, { auth: admin });
    expect(again.status, again.text).toBe(200);
    expect(again.json).toMatchObject({ id: first.json.id, status: "succeeded", attempts: 3, responseStatus: 200 });
    expect(calls).toHaveLength(2);
  });

  it("disables the endpoint on 410 and refuses to send to a disabled endpoint", async () => {
    const { admin } = await project();
    const endpoint = await createEndpoint(admin);
    receiveAt(endpoint.url, [410]);
    const res = await api<WebhookDeliveryBody>("POST", `/v1/admin/webhooks/${endpoint.id}/test`, { auth: admin });
    expect(res.json).toMatchObject({ status: "failed", responseStatus: 410, nextAttemptAt: null });
    const after = await api<WebhookEndpointBody>("GET", `/v1/admin/webhooks/${endpoint.id}`, { auth: admin });
    expect(after.json).toMatchObject({ enabled: false, disabledReason: "410 Gone" });
    expect(after.json.disabledAt).not.toBeNull();
    const test = await api("POST", `/v1/admin/webhooks/${endpoint.id}/test`, { auth: admin });
    expect(test.status).toBe(409);
    expect((await api("POST", `/v1/admin/webhooks/${endpoint.id}/deliveries/${res.json.id}/retry`, { auth: admin })).status).toBe(409);
  });

  it("rotates the secret: shown once, the old one keeps signing beside it for 24 hours", async () => {
    const { admin } = await project();
    const endpoint = await createEndpoint(admin);
    const rotated = await api<CreatedWebhookEndpointBody>("POST", `/v1/admin/webhooks/${endpoint.id}/rotate-secret`, { auth: admin });
    expect(rotated.status, rotated.text).toBe(200);
    expect(rotated.json.secret).toMatch(/^whsec_/);
    expect(rotated.json.secret).not.toBe(endpoint.secret);
    const overlapEnds = Date.parse(rotated.json.previousSecretExpiresAt!);
    expect(overlapEnds - Date.now()).toBeGreaterThan(23.9 * 3_600_000);
    expect(overlapEnds - Date.now()).toBeLessThanOrEqual(24 * 3_600_000);
    const calls = receiveAt(endpoint.url, [200]);
    await api("POST", `/v1/admin/webhooks/${endpoint.id}/test`, { auth: admin });
    expect(calls[0]!.headers.get("webhook-signature")!.split(" ")).toHaveLength(2);
  });
});

describe("the deliveries list", () => {
  it("pages newest first with a cursor, filters by status, and shows attempts, response and next retry", async () => {
    const { admin } = await project();
    const endpoint = await createEndpoint(admin);
    const statuses = [200, 500, 200, 500, 200];
    receiveAt(endpoint.url, statuses);
    const sent: WebhookDeliveryBody[] = [];
    for (let i = 0; i < statuses.length; i++) {
      sent.push((await api<WebhookDeliveryBody>("POST", `/v1/admin/webhooks/${endpoint.id}/test`, { auth: admin })).json);
    }
    // Deliveries made in one millisecond still page in one order: give them distinct times, oldest first. The
    // failed ones' retries (queued for 5 s from now) are pushed an hour out, so that no retry reaches this test.
    for (const [i, delivery] of sent.entries()) {
      await env.DB.prepare("UPDATE webhook_deliveries SET created_at = ?2, next_attempt_at = CASE WHEN status = 'pending' THEN ?3 END WHERE id = ?1")
        .bind(delivery.id, Date.now() - 60_000 + i, Date.now() + 3_600_000)
        .run();
    }
    const failing = sent.filter((d) => d.status === "pending");
    expect(failing).toHaveLength(2);
    expect(failing[0]).toMatchObject({ attempts: 1, responseStatus: 500, responseText: "received 2", error: "answered 500" });
    expect(Date.parse(failing[0]!.nextAttemptAt!) - Date.parse(failing[0]!.updatedAt)).toBe(5_000);

    const newestFirst = [...sent].reverse().map((d) => d.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `?limit=2&cursor=${cursor}` : "?limit=2";
      const page: { status: number; json: DeliveryPage } = await api<DeliveryPage>("GET", `/v1/admin/webhooks/${endpoint.id}/deliveries${query}`, {
        auth: admin,
      });
      expect(page.status).toBe(200);
      expect(page.json.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.json.items.map((d) => d.id));
      cursor = page.json.nextCursor;
    } while (cursor !== null);
    expect(seen).toEqual(newestFirst);

    const succeeded = await api<DeliveryPage>("GET", `/v1/admin/webhooks/${endpoint.id}/deliveries?status=succeeded&limit=2`, { auth: admin });
    expect(succeeded.json.items.map((d) => d.id)).toEqual([sent[4]!.id, sent[2]!.id]);
    const rest = await api<DeliveryPage>("GET", `/v1/admin/webhooks/${endpoint.id}/deliveries?status=succeeded&limit=2&cursor=${succeeded.json.nextCursor}`, {
      auth: admin,
    });
    expect(rest.json).toEqual({ items: [expect.objectContaining({ id: sent[0]!.id, status: "succeeded" })], nextCursor: null });
    const pending = await api<DeliveryPage>("GET", `/v1/admin/webhooks/${endpoint.id}/deliveries?status=pending`, { auth: admin });
    expect(pending.json.items.map((d) => d.id)).toEqual([sent[3]!.id, sent[1]!.id]);
    expect((await api<DeliveryPage>("GET", `/v1/admin/webhooks/${endpoint.id}/deliveries?status=failed`, { auth: admin })).json.items).toEqual([]);
  });
});
