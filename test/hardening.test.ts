import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { userStateName } from "../src/durable/stub";
import type { EventDefinition } from "../src/domain/definition";
import { MAX_CONDITION_DEPTH, MAX_METADATA_BYTES } from "../src/domain/limits";
import type { EventLoggedEnvelope } from "../src/domain/logged-event";
import type { BatchResponseBody } from "../src/routes/event-log";
import {
  adminToken,
  api,
  instrumentedD1,
  purchaseDefinition,
  setupProject,
  token,
  userObject,
  userToken,
  type Credential,
} from "./helpers";

const purchase = (userId: string, metadata: Record<string, unknown> = { amount: 10 }) => ({ eventId: "purchase_completed", userId, metadata });

/** Calls a fresh app with a changed environment (vars, a failing binding). */
async function callWith(overrides: Partial<Env>, request: Request) {
  const response = await createApp().fetch(request, { ...env, ...overrides });
  return { status: response.status, headers: response.headers, json: (await response.json().catch(() => undefined)) as unknown };
}

const bearer = (credential: Credential) => (credential as { bearer: string }).bearer;

/** A condition tree nested `levels` groups deep around one leaf. */
function nestedGroups(levels: number) {
  let tree: Record<string, unknown> = { field: "amount", operator: "exists" };
  for (let i = 0; i < levels; i++) tree = { type: "AND", conditions: [tree] };
  return tree;
}

describe("stats: date inputs are bounded", () => {
  it.each([
    ["9999-12", 400],
    ["1969-12", 400],
    ["1970-01", 200],
    [new Date().toISOString().slice(0, 7), 200],
    [`${new Date().getUTCFullYear() + 1}-01`, 400],
  ])("timeframe=month&month=%s answers %i", async (month, status) => {
    const { admin } = await setupProject();
    const res = await api("GET", `/v1/stats/event?timeframe=month&month=${month}`, { auth: admin });
    expect(res.status).toBe(status);
    if (status === 400) expect(res.json.errors?.[0]?.path).toBe("month");
  });
});

describe("definitions: condition trees are bounded", () => {
  it.each([
    [680, 400],
    [MAX_CONDITION_DEPTH + 1, 400],
  ])("a tree %i groups deep is 400 naming conditions", async (levels, status) => {
    const { admin } = await setupProject();
    const res = await api("PUT", "/v1/admin/events/deep", {
      auth: admin,
      body: { title: "Deep", reward: { default: 1 }, conditions: nestedGroups(levels) },
    });
    expect(res.status).toBe(status);
    expect(res.json.errors?.[0]?.path).toBe("conditions");
  });

  it(`stores a tree ${MAX_CONDITION_DEPTH} groups deep, evaluates it, and deactivates it`, async () => {
    const { admin } = await setupProject();
    const put = await api("PUT", "/v1/admin/events/deep", {
      auth: admin,
      body: { title: "Deep", reward: { default: 1 }, conditions: nestedGroups(MAX_CONDITION_DEPTH) },
    });
    expect(put.status).toBe(201);
    const logged = await api<EventLoggedEnvelope>("POST", "/v1/event", { auth: admin, body: { eventId: "deep", userId: "alice", metadata: { amount: 1 } } });
    expect(logged.json.data).toMatchObject({ conditionReached: true, points: 1 });
    const deleted = await api<EventDefinition>("DELETE", "/v1/admin/events/deep", { auth: admin });
    expect(deleted.status).toBe(200);
    expect(deleted.json.status).toBe("INACTIVE");
  });

  it("400s a tree with more than 1,000 conditions", async () => {
    const { admin } = await setupProject();
    const group = (n: number) => ({ type: "OR", conditions: Array.from({ length: n }, (_, i) => ({ field: `f${i}`, operator: "exists" })) });
    const res = await api("PUT", "/v1/admin/events/wide", {
      auth: admin,
      body: { title: "Wide", reward: { default: 1 }, conditions: { type: "AND", conditions: Array.from({ length: 11 }, () => group(100)) } },
    });
    expect(res.status).toBe(400);
    expect(res.json.errors?.[0]?.path).toBe("conditions");
  });
});

describe("body limits belong to routes", () => {
  it("refuses a 1.5 MiB definition at PUT /v1/admin/events/batch, while the batch route takes 1.5 MiB", async () => {
    const { admin } = await setupProject();
    const big = "x".repeat(1_500_000);
    const definition = await api("PUT", "/v1/admin/events/batch", { auth: admin, body: { title: "Batch", reward: { default: 1 }, description: big } });
    expect(definition.status).toBe(413);
    const events = Array.from({ length: 100 }, () => purchase("alice", { amount: 1, note: "n".repeat(15_000) }));
    const batch = await api<BatchResponseBody>("POST", "/v1/events/batch", { auth: admin, body: { events } });
    expect(batch.status).toBe(200);
    expect(batch.json.results.every((r) => r.statusCode === 200)).toBe(true);
  });

  it("answers 415 for a body that is not JSON, or has no content type", async () => {
    const { admin } = await setupProject();
    const text = await api("POST", "/v1/event", { auth: admin, rawBody: JSON.stringify(purchase("alice")), headers: { "content-type": "text/plain" } });
    expect(text.status).toBe(415);
    const none = await exportsFetchWithoutContentType(bearer(admin), JSON.stringify(purchase("alice")));
    expect(none).toBe(415);
  });
});

async function exportsFetchWithoutContentType(jwt: string, body: string) {
  const request = new Request("http://api.test/v1/event", { method: "POST", headers: { authorization: `Bearer ${jwt}` }, body });
  request.headers.delete("content-type");
  return (await createApp().fetch(request, env)).status;
}

describe("metadata is capped per event", () => {
  /** Metadata whose JSON is exactly `bytes` long. */
  const metadataOf = (bytes: number) => {
    const overhead = JSON.stringify({ amount: 1, blob: "" }).length;
    return { amount: 1, blob: "x".repeat(bytes - overhead) };
  };

  it(`accepts ${MAX_METADATA_BYTES} bytes and answers 413 naming metadata one byte later, in a batch too`, async () => {
    const { admin } = await setupProject();
    const fits = await api("POST", "/v1/event", { auth: admin, body: purchase("alice", metadataOf(MAX_METADATA_BYTES)) });
    expect(fits.status).toBe(200);
    const over = await api("POST", "/v1/event", { auth: admin, body: purchase("alice", metadataOf(MAX_METADATA_BYTES + 1)) });
    expect(over.status).toBe(413);
    expect(over.json.errors).toEqual([{ path: "metadata", message: expect.any(String) }]);

    const batch = await api<BatchResponseBody>("POST", "/v1/events/batch", {
      auth: admin,
      body: { events: [purchase("alice", metadataOf(MAX_METADATA_BYTES + 1)), purchase("alice", { amount: 2 })] },
    });
    expect(batch.json.results.map((r) => r.statusCode)).toEqual([413, 200]);
    expect((batch.json.results[0] as { errors: unknown }).errors).toEqual([{ path: "metadata", message: expect.any(String) }]);
  });
});

describe("unregistered users cost no storage", () => {
  it("answers a batch of 1,000 unknown users with 404s from one registration query, creating no user object", async () => {
    const { admin, projectId } = await setupProject();
    const d1 = instrumentedD1();
    const events = Array.from({ length: 1000 }, (_, i) => purchase(`ghost-${i}`));
    const request = new Request("http://api.test/v1/events/batch", {
      method: "POST",
      headers: { authorization: `Bearer ${bearer(admin)}`, "content-type": "application/json" },
      body: JSON.stringify({ events }),
    });
    const res = await callWith({ DB: d1.db }, request);
    expect(res.status).toBe(200);
    const { results } = res.json as BatchResponseBody;
    expect(new Set(results.map((r) => r.statusCode))).toEqual(new Set([404]));
    // Definitions (cold isolate: version + load) and one query for the batch's users: a handful, not one per user.
    expect(d1.calls()).toBeLessThan(10);
    for (const userId of ["ghost-0", "ghost-500", "ghost-999"]) {
      const tables = await runInDurableObject(userObject(projectId, userId), (_instance, state) =>
        state.storage.sql.exec("SELECT name FROM sqlite_master").toArray(),
      );
      expect(tables).toEqual([]);
    }
  });

  it("stores nothing for an unknown user logged through the single route", async () => {
    const { admin, projectId } = await setupProject();
    const res = await api("POST", "/v1/event", { auth: admin, body: purchase("nobody") });
    expect(res.status).toBe(404);
    const id = env.USER_STATE.idFromName(userStateName(projectId, "nobody"));
    const tables = await runInDurableObject(env.USER_STATE.get(id), (_instance, state) => state.storage.sql.exec("SELECT name FROM sqlite_master").toArray());
    expect(tables).toEqual([]);
  });
});

describe("rate limits", () => {
  it("answers 429 with Retry-After once a user token floods the log route, and never below the limit", async () => {
    const { projectId } = await setupProject({ definitions: { purchase_completed: { ...purchaseDefinition, limit: 1000 } } });
    const user: Credential = { bearer: await userToken(projectId, "alice") };
    // The limiter's windows are aligned to the clock: 50 calls stay under a limit of 100 in any window...
    const under = await Promise.all(Array.from({ length: 50 }, () => api("POST", "/v1/event", { auth: user, body: purchase("alice") })));
    expect(under.map((r) => r.status)).toEqual(Array(50).fill(200));
    // ...and 201 more calls, even if they straddle a window boundary, must exceed it.
    const flood = await Promise.all(Array.from({ length: 201 }, () => api("POST", "/v1/event", { auth: user, body: purchase("alice") })));
    const limited = flood.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(limited[0]!.headers.get("retry-after")).toBe("10");
    expect(limited[0]!.json).toMatchObject({ statusCode: 429 });
    expect(flood.every((r) => r.status === 200 || r.status === 429)).toBe(true);
  });

  it("limits failed authentication per client IP, and unknown API keys cannot buy a D1 query each", async () => {
    await setupProject();
    const d1 = instrumentedD1();
    const ip = `203.0.113.${Math.floor(Math.random() * 250)}`;
    const attempt = (headers: Record<string, string>) =>
      callWith({ DB: d1.db }, new Request("http://api.test/v1/event", { headers: { "cf-connecting-ip": ip, ...headers } }));
    const statuses: number[] = [];
    for (let i = 0; i < 70; i++) statuses.push((await attempt({ "x-api-key": `lek_${crypto.randomUUID()}` })).status);
    expect(statuses).toContain(429);
    expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
    // At most one window's allowance (30) of lookups, even across a window boundary (60).
    expect(d1.calls()).toBeLessThanOrEqual(60);
    const limited = await attempt({ authorization: "Bearer not-a-jwt" });
    if (limited.status === 429) expect(limited.headers.get("retry-after")).toBe("10");
    else expect(limited.status).toBe(401);

    // The same wrong key again and again is answered from memory.
    const other = instrumentedD1();
    const key = `lek_${crypto.randomUUID()}`;
    for (let i = 0; i < 10; i++) {
      await callWith({ DB: other.db }, new Request("http://api.test/v1/event", { headers: { "x-api-key": key } }));
    }
    expect(other.calls()).toBe(1);
  });
});

describe("HTTP conventions", () => {
  it("answers a browser preflight before authentication, and exposes the headers clients read", async () => {
    const preflight = await callWith(
      {},
      new Request("http://api.test/v1/event", {
        method: "OPTIONS",
        headers: { origin: "https://shop.example", "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type, idempotency-key" },
      }),
    );
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("*");
    expect(preflight.headers.get("access-control-allow-methods")).toContain("POST");
    expect(preflight.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("idempotency-key");
    expect(preflight.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("x-api-key");
    expect(Number(preflight.headers.get("access-control-max-age"))).toBeGreaterThan(0);

    const { admin } = await setupProject();
    const res = await callWith(
      {},
      new Request("http://api.test/v1/event", { headers: { origin: "https://shop.example", authorization: `Bearer ${bearer(admin)}` } }),
    );
    expect(res.headers.get("access-control-expose-headers")).toContain("Idempotent-Replayed");
  });

  it("allows only the configured origins when CORS_ORIGINS lists them", async () => {
    const preflight = (origin: string) =>
      callWith(
        { CORS_ORIGINS: "https://app.example, https://admin.example" },
        new Request("http://api.test/v1/event", { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST" } }),
      );
    expect((await preflight("https://admin.example")).headers.get("access-control-allow-origin")).toBe("https://admin.example");
    expect((await preflight("https://evil.example")).headers.get("access-control-allow-origin")).toBeNull();
  });

  it("answers a known path with a wrong method 405 with Allow, and 401 with WWW-Authenticate", async () => {
    const { admin } = await setupProject();
    const wrong = await api("DELETE", "/v1/event", { auth: admin });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("GET, HEAD, POST");
    expect(wrong.json.statusCode).toBe(405);
    expect((await api("PATCH", "/v2/admin/events/x", { auth: admin })).headers.get("allow")).toBe("DELETE, PUT");
    expect((await api("GET", "/v1/nope", { auth: admin })).status).toBe(404);
    const anonymous = await api("GET", "/v1/event");
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toMatch(/^Bearer/);
  });

  it("answers 503 with Retry-After when a user's object is unreachable, in a batch too", async () => {
    const { admin } = await setupProject();
    const failing = {
      idFromName: (name: string) => env.USER_STATE.idFromName(name),
      get: () => ({ logEvents: async () => Promise.reject(new Error("Durable Object reset")) }),
    } as unknown as Env["USER_STATE"];
    const post = (path: string, body: unknown) =>
      callWith(
        { USER_STATE: failing },
        new Request(`http://api.test${path}`, {
          method: "POST",
          headers: { authorization: `Bearer ${bearer(admin)}`, "content-type": "application/json" },
          body: JSON.stringify(body),
        }),
      );
    const single = await post("/v1/event", purchase("alice"));
    expect(single.status).toBe(503);
    expect(single.headers.get("retry-after")).toBe("1");
    const batch = await post("/v1/events/batch", { events: [purchase("alice")] });
    expect(batch.status).toBe(200);
    expect(batch.headers.get("retry-after")).toBe("1");
  });

  it("marks replays in batch results as the single route does with its header", async () => {
    const { admin } = await setupProject();
    const events = [{ ...purchase("alice"), idempotencyKey: "b-1" }];
    const first = await api<BatchResponseBody>("POST", "/v1/events/batch", { auth: admin, body: { events } });
    const again = await api<BatchResponseBody>("POST", "/v1/events/batch", { auth: admin, body: { events } });
    expect(first.json.results[0]).toMatchObject({ statusCode: 200, replayed: false });
    expect(again.json.results[0]).toMatchObject({ statusCode: 200, replayed: true });
  });

  it("refuses tokens that live longer than JWT_MAX_TTL_SECONDS, and tokens without iat when it is set", async () => {
    const { projectId } = await setupProject();
    const get = async (jwt: string) =>
      (await callWith({ JWT_MAX_TTL_SECONDS: "3600" }, new Request("http://api.test/v1/event", { headers: { authorization: `Bearer ${jwt}` } }))).status;
    expect(await get(await token({ sub: "a", projectId, role: "admin" }, { expiresIn: "30m" }))).toBe(200);
    expect(await get(await token({ sub: "a", projectId, role: "admin" }, { expiresIn: "2h" }))).toBe(401);
    expect(await get(await token({ sub: "a", projectId, role: "admin" }, { expiresIn: "30m", issuedAt: null }))).toBe(401);
    expect(await get(await adminToken(projectId))).toBe(200);
  });
});

describe("no input makes the API fail or hang", () => {
  const hostileJson = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      fc.oneof(fc.integer(), fc.double(), fc.constantFrom(1e308, -1e308, 2 ** 53 + 1, 1e-300), fc.string(), fc.boolean(), fc.constant(null)),
      fc.string({ minLength: 0, maxLength: 3000 }),
      fc.array(tie("value"), { maxLength: 4 }),
      fc.dictionary(fc.string({ maxLength: 12 }), tie("value"), { maxKeys: 4 }),
    ),
  })).value;
  const deepGroups = fc.integer({ min: 0, max: 900 }).map(nestedGroups);
  const farDate = fc.oneof(
    fc.date({ min: new Date("0001-01-01"), max: new Date("9999-12-31"), noInvalidDate: true }).map((d) => d.toISOString()),
    fc.constantFrom("+010000-01-01T00:00:00Z", "-000001-01-01T00:00:00Z", "2026-02-30T00:00:00Z"),
  );

  it("definition bodies", async () => {
    const { admin } = await setupProject();
    const body = fc.record(
      {
        title: fc.oneof(fc.string({ maxLength: 300 }), hostileJson),
        reward: fc.oneof(fc.record({ default: fc.oneof(fc.double(), fc.integer(), fc.constant(1e300)) }), hostileJson),
        type: fc.constantFrom("STANDARD", "TRANSACTION", "OTHER"),
        rewardValueField: fc.string({ maxLength: 300 }),
        limit: fc.oneof(fc.integer(), fc.double(), fc.constant(2 ** 60)),
        limitPeriod: fc.constantFrom("day", "week", "month", "lifetime", "year"),
        conditions: fc.oneof(deepGroups, hostileJson),
        metadataFields: hostileJson,
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(body, fc.string({ minLength: 1, maxLength: 20 }), async (value, id) => {
        const res = await api("PUT", `/v1/admin/events/${encodeURIComponent(id)}`, { auth: admin, rawBody: JSON.stringify(value) });
        expect(res.status, res.text.slice(0, 300)).toBeLessThan(500);
      }),
      { numRuns: 120 },
    );
  });

  it("stats queries", async () => {
    const { admin } = await setupProject();
    const query = fc.record(
      {
        period: fc.oneof(fc.constantFrom("1d", "7d", "30d", "90d", "current_month", "ytd", "all"), fc.string()),
        eventId: fc.oneof(fc.constant("purchase_completed"), fc.string({ maxLength: 200 })),
        timeframe: fc.oneof(fc.constant("month"), fc.string()),
        month: fc.oneof(
          fc.integer({ min: 0, max: 99999 }).map((y) => `${y}-12`),
          farDate.map((d) => d.slice(0, 7)),
          fc.string(),
        ),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(query, async (q) => {
        const res = await api("GET", `/v1/stats/event?${new URLSearchParams(q as Record<string, string>)}`, { auth: admin });
        expect(res.status, res.text.slice(0, 300)).toBeLessThan(500);
      }),
      { numRuns: 150 },
    );
  });

  it("batch items", async () => {
    const { admin } = await setupProject();
    const item = fc.oneof(
      hostileJson,
      fc.record(
        {
          eventId: fc.oneof(fc.constant("purchase_completed"), fc.string()),
          userId: fc.oneof(fc.constant("alice"), fc.string({ maxLength: 400 })),
          metadata: fc.oneof(fc.record({ amount: fc.oneof(fc.double(), fc.constant(1e16), fc.integer()) }), hostileJson),
          timestamp: farDate,
          idempotencyKey: fc.string({ maxLength: 300 }),
        },
        { requiredKeys: [] },
      ),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(item, { minLength: 1, maxLength: 20 }), async (events) => {
        const res = await api<BatchResponseBody>("POST", "/v1/events/batch", { auth: admin, rawBody: JSON.stringify({ events }) });
        expect(res.status, res.text.slice(0, 300)).toBeLessThan(500);
        if (res.status === 200) for (const result of res.json.results) expect(result.statusCode).toBeLessThan(500);
      }),
      { numRuns: 60 },
    );
  });
});
