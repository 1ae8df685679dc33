import { env } from "cloudflare:workers";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { insertEvents } from "../../src/db/event-log";
import { countStoredBytes, EVENT_ROW_OVERHEAD_BYTES } from "../../src/db/quotas";
import type { EventLoggedEnvelope } from "../../src/domain/logged-event";
import type { BatchResponseBody } from "../../src/routes/event-log";
import type { ProjectQuotasBody, UsageBody } from "../../src/routes/quotas";
import type { CreatedSigningKeyBody } from "../../src/routes/signing-keys";
import { deliver, loggedEvent } from "../fixtures";
import { api, apiKeyWith, POLL, setupProject, userToken, type Credential } from "../helpers";

const purchase = (userId = "alice", timestamp?: string) => ({
  eventId: "purchase_completed",
  userId,
  metadata: { amount: 10 },
  ...(timestamp ? { timestamp } : {}),
});
const log = (auth: Credential, timestamp?: string) => api<EventLoggedEnvelope>("POST", "/v1/event", { auth, body: purchase("alice", timestamp) });
const setQuotas = (auth: Credential, projectKey: string, body: Record<string, unknown>) =>
  api<ProjectQuotasBody>("PUT", `/v1/operator/projects/${projectKey}/quotas`, { auth, body });
const usage = (auth: Credential) => api<UsageBody>("GET", "/v1/admin/usage", { auth });

const secondsToUtcMidnight = () => (Math.floor(Date.now() / 86_400_000) * 86_400_000 + 86_400_000 - Date.now()) / 1000;

describe("the operator's quota route", () => {
  it("answers root credentials for any project, and 403 to a project's own admin tokens, API keys and users", async () => {
    const { admin, projectId } = await setupProject();
    const other = await setupProject();
    // The root admin token of one project sets another's: the operator's credential, not a tenant's.
    const set = await setQuotas(other.admin, projectId, { eventsPerDay: 50 });
    expect(set.status, set.text).toBe(200);
    expect(set.json).toEqual({
      projectKey: projectId,
      eventsPerDay: { limit: 50, source: "project" },
      storedBytes: { limit: 1_073_741_824, source: "default" },
      updatedAt: expect.any(String),
    });
    expect((await api<ProjectQuotasBody>("GET", `/v1/operator/projects/${projectId}/quotas`, { auth: admin })).json).toEqual(set.json);

    const key = (await api<CreatedSigningKeyBody>("POST", "/v1/admin/signing-keys", { auth: admin, body: { name: "tenant" } })).json;
    const projectAdmin = {
      bearer: await new SignJWT({ role: "admin" })
        .setProtectedHeader({ alg: "HS256", kid: key.kid })
        .setSubject("tenant-ops")
        .setExpirationTime("1h")
        .sign(new TextEncoder().encode(key.secret)),
    };
    expect((await api("GET", "/v1/admin/signing-keys", { auth: projectAdmin })).status).toBe(200); // a working admin token...
    const refused: Array<[string, Credential]> = [
      ["a project signing key's admin token", projectAdmin],
      ["an API key with the admin scope", await apiKeyWith(admin, ["admin"])],
      ["an API key with another scope", await apiKeyWith(admin, ["events:log"])],
      ["a user token", { bearer: await userToken(projectId, "alice") }],
    ];
    for (const [who, auth] of refused) {
      const path = `/v1/operator/projects/${projectId}/quotas`;
      for (const res of [await api("PUT", path, { auth, body: { eventsPerDay: 1_000_000_000 } }), await api("GET", path, { auth })]) {
        expect(res.status, who).toBe(403);
        expect(res.json.message, who).toContain("root credentials");
        expect(res.json.message, who).toContain('"admin"');
      }
    }
    expect((await api<ProjectQuotasBody>("GET", `/v1/operator/projects/${projectId}/quotas`, { auth: admin })).json.eventsPerDay.limit).toBe(50);
  });

  it("400s quotas that are not whole numbers from 0, naming the field, and resets to the defaults with null", async () => {
    const { admin, projectId } = await setupProject();
    for (const [body, path] of [
      [{ eventsPerDay: -1 }, "eventsPerDay"],
      [{ storedBytes: 1.5 }, "storedBytes"],
      [{ eventsPerDay: "10" }, "eventsPerDay"],
      [{ events: 10 }, "(root)"],
    ] as const) {
      const res = await api("PUT", `/v1/operator/projects/${projectId}/quotas`, { auth: admin, body });
      expect([res.status, res.json.errors?.[0]?.path]).toEqual([400, path]);
    }
    expect((await api("PUT", "/v1/operator/projects/bad key!/quotas", { auth: admin, body: {} })).status).toBe(400);
    await setQuotas(admin, projectId, { eventsPerDay: 5, storedBytes: 1000 });
    const reset = await setQuotas(admin, projectId, { eventsPerDay: null });
    expect(reset.json).toMatchObject({ eventsPerDay: { limit: 1_000_000, source: "default" }, storedBytes: { limit: 1_073_741_824, source: "default" } });
  });
});

describe("the events-per-day quota", () => {
  it("answers 429 with Retry-After until the next UTC day, naming the quota, once a project logged its day's quota", async () => {
    const { admin, projectId } = await setupProject();
    const neighbour = await setupProject();
    await setQuotas(admin, projectId, { eventsPerDay: 3 });
    for (let i = 0; i < 3; i++) expect((await log(admin)).status).toBe(200);
    const refused = await log(admin);
    expect(refused.status).toBe(429);
    expect(refused.json.message).toMatch(/^Project quota eventsPerDay reached: 3 events dated \d{4}-\d\d-\d\d \(UTC\)/);
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(Math.abs(retryAfter - secondsToUtcMidnight())).toBeLessThanOrEqual(2);
    // Nothing was logged for the refused call, and other projects log on.
    expect((await log(neighbour.admin)).status).toBe(200);
    // A batch with no room is refused as a whole (with Retry-After); a backfill counts against its own day.
    const batch = await api("POST", "/v1/events/batch", { auth: admin, body: { events: [purchase(), purchase()] } });
    expect([batch.status, batch.headers.get("retry-after") !== null]).toEqual([429, true]);
    const yesterday = new Date(Date.now() - 86_400_000).toISOString();
    expect((await log(admin, yesterday)).status).toBe(200);
  });

  it("lets a batch log what fits and answers 429 for the rest of it, item by item", async () => {
    const { admin, projectId } = await setupProject();
    await setQuotas(admin, projectId, { eventsPerDay: 2 });
    const batch = await api<BatchResponseBody>("POST", "/v1/events/batch", {
      auth: admin,
      body: { events: [purchase(), purchase("nobody"), purchase(), purchase()] },
    });
    expect(batch.status).toBe(200);
    // An unregistered user logs nothing and takes no room.
    expect(batch.json.results.map((r) => r.statusCode)).toEqual([200, 404, 200, 429]);
    expect((batch.json.results[3] as { message: string }).message).toContain("eventsPerDay");
  });

  it("counts what the consumer wrote, so logs through other isolates count too", async () => {
    const { admin, projectId } = await setupProject();
    const today = new Date().toISOString();
    const elsewhere = Array.from({ length: 5 }, () => loggedEvent(projectId, { occurredAt: today, recordedAt: today }));
    expect((await deliver(elsewhere)).retryMessages).toEqual([]);
    expect((await usage(admin)).json.eventsPerDay.used).toBe(5);
    // Setting a quota drops this isolate's reading: the next log reads the stats again.
    await setQuotas(admin, projectId, { eventsPerDay: 5 });
    expect((await log(admin)).status).toBe(429);
    await setQuotas(admin, projectId, { eventsPerDay: 6 });
    expect((await log(admin)).status).toBe(200);
    expect((await log(admin)).status).toBe(429);
    await expect.poll(async () => (await usage(admin)).json.eventsPerDay, POLL).toMatchObject({ limit: 6, source: "project", used: 6 });
  });
});

describe("reading the quotas", () => {
  it("reads D1 once for concurrent logs of a project whose reading is stale, not once per request", async () => {
    const { admin } = await setupProject();
    let reads = 0;
    const DB = new Proxy(env.DB, {
      get(target, property) {
        if (property === "prepare")
          return (query: string) => {
            if (query.includes("project_quotas")) reads++;
            return target.prepare(query);
          };
        const value = Reflect.get(target, property);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const answers = await Promise.all(Array.from({ length: 30 }, () => api("POST", "/v1/event", { auth: admin, body: purchase(), env: { DB } })));
    expect(answers.map((answer) => answer.status)).toEqual(Array(30).fill(200));
    expect(reads).toBe(1);
  });
});

describe("the storage quota", () => {
  it("answers 507 naming the quota once the project's log holds its bytes, and logs again when raised", async () => {
    const { admin, projectId } = await setupProject();
    // The consumer adds each ingest's rows with countStoredBytes, in the ingest's batch (exactly once per row).
    const events = [loggedEvent(projectId, { metadata: { note: "x".repeat(1000) } }), loggedEvent(projectId, { customerMessage: "Thanks" })];
    const first = crypto.randomUUID();
    await env.DB.batch([...insertEvents(env.DB, events, first), countStoredBytes(env.DB, first)]);
    const redelivery = crypto.randomUUID();
    await env.DB.batch([...insertEvents(env.DB, events, redelivery), countStoredBytes(env.DB, redelivery)]);
    const bytes = (text: string) => new TextEncoder().encode(text).length;
    const expected = events.reduce((sum, e) => sum + EVENT_ROW_OVERHEAD_BYTES + bytes(JSON.stringify(e.metadata)) + bytes(e.customerMessage ?? ""), 0);
    const before = (await usage(admin)).json.storedBytes;
    expect(before).toEqual({ limit: 1_073_741_824, source: "default", used: expected, events: 2 });

    await setQuotas(admin, projectId, { storedBytes: expected });
    const refused = await log(admin);
    expect(refused.status).toBe(507);
    expect(refused.json.message).toBe(`Project quota storedBytes reached: about ${expected} of ${expected} bytes are stored; the operator may raise the quota`);
    expect((await api("POST", "/v1/events/batch", { auth: admin, body: { events: [purchase()] } })).status).toBe(507);
    await setQuotas(admin, projectId, { storedBytes: expected + 10_000 });
    expect((await log(admin)).status).toBe(200);
  });
});

describe("GET /v1/admin/usage", () => {
  it("shows the project its use of each quota, to admins and stats:read keys", async () => {
    const { admin } = await setupProject();
    for (let i = 0; i < 2; i++) expect((await log(admin)).status).toBe(200);
    const now = Date.now();
    await expect.poll(async () => (await usage(admin)).json.eventsPerDay.used, POLL).toBe(2);
    const res = await usage(await apiKeyWith(admin, ["stats:read"]));
    expect(res.json).toEqual({
      projectKey: expect.any(String),
      day: new Date(now).toISOString().slice(0, 10),
      eventsPerDay: { limit: 1_000_000, source: "default", used: 2, resetsAt: new Date(Math.floor(now / 86_400_000) * 86_400_000 + 86_400_000).toISOString() },
      storedBytes: { limit: 1_073_741_824, source: "default", used: expect.any(Number), events: expect.any(Number) },
      refreshSeconds: 5,
    });
    expect((await usage(await apiKeyWith(admin, ["events:log"]))).status).toBe(403);
  });

  it("refuses a misconfigured default loudly, naming the setting", async () => {
    const { admin } = await setupProject();
    const request = new Request("http://api.test/v1/admin/usage", { headers: { authorization: `Bearer ${(admin as { bearer: string }).bearer}` } });
    const res = await createApp().fetch(request, { ...env, PROJECT_STORED_BYTES: "1 GB" });
    expect(res.status).toBe(500);
    expect(((await res.json()) as { message: string }).message).toContain("PROJECT_STORED_BYTES");
  });
});

describe("reads are limited per project", () => {
  it("answers 429 with Retry-After to every principal's reads past the project's limit, and leaves writes alone", async () => {
    const { admin, projectId } = await setupProject();
    const keys: string[] = [];
    const limiter = {
      limit: async ({ key }: { key: string }) => {
        keys.push(key);
        return { success: false };
      },
    };
    const call = (method: string, path: string, auth: Credential, body?: unknown) => {
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (auth && "bearer" in auth) headers.authorization = `Bearer ${auth.bearer}`;
      return createApp().fetch(new Request(`http://api.test${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }), {
        ...env,
        PROJECT_READ_RATE_LIMITER: limiter,
      });
    };
    const user = { bearer: await userToken(projectId, "alice") };
    for (const [path, auth] of [
      ["/v1/loyalty-events", admin],
      ["/v1/event", admin],
      ["/v1/users/alice", user],
    ] as const) {
      const res = await call("GET", path, auth);
      expect(res.status, path).toBe(429);
      expect(res.headers.get("retry-after")).toBe("10");
    }
    expect(new Set(keys)).toEqual(new Set([projectId]));
    expect((await call("POST", "/v1/event", admin, purchase())).status).toBe(200);
  });
});
