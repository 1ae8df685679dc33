// The generated client (sdk/, @loyalty-events/client) against the Worker in this runtime: openapi-fetch's `fetch`
// is the Worker's own fetch handler, so every call goes through routing, authentication and validation.
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  allItems,
  createLoyaltyClient,
  logEvent,
  nextPageUrl,
  pages,
  parseLinkHeader,
  retryAfterMs,
  unwrap,
  withRetry,
  ApiError,
  type LoyaltyClient,
  type Schemas,
} from "../../sdk/src/index.ts";
import { adminToken, POLL, purchaseDefinition, setupProject, userToken } from "../helpers";

const BASE = "http://api.test";
type Fetch = (request: Request) => Promise<Response>;
const worker: Fetch = (request) => exports.default.fetch(request);

const clientWith = (credential: { token: string } | { apiKey: string }, fetch: Fetch = worker): LoyaltyClient =>
  createLoyaltyClient({ baseUrl: BASE, fetch, ...credential });

/** A project with purchase_completed and alice; an admin client and alice's own (user token) client. */
async function project() {
  const { projectId } = await setupProject({ definitions: { purchase_completed: purchaseDefinition }, users: { alice: [], bob: [] } });
  const admin = clientWith({ token: await adminToken(projectId) });
  const alice = clientWith({ token: await userToken(projectId, "alice") });
  return { projectId, admin, alice };
}

const purchase = (userId: string, amount: number): Schemas["LogEventInput"] => ({
  eventId: "purchase_completed",
  userId,
  metadata: { amount, currency: "EUR" },
});

const balanceOf = async (admin: LoyaltyClient, userId: string) => unwrap(await admin.GET("/v1/admin/users/{userId}", { params: { path: { userId } } })).balance;

/** Resolves when the ledger (written by the queue consumer) holds `count` events of the account. */
async function ledgerHas(admin: LoyaltyClient, accountid: number, count: number) {
  await expect
    .poll(
      async () => Number((await admin.GET("/v1/loyalty-events", { params: { query: { accountid, size: 1 } } })).response.headers.get("X-Total-Count")),
      POLL,
    )
    .toBe(count);
}

describe("the client: typed calls against the Worker", () => {
  it("logs an event with a user token and reads the typed answer", async () => {
    const { alice } = await project();
    const { data, error, response } = await alice.POST("/v1/event", { body: purchase("alice", 49.99) });
    expect(error, JSON.stringify(error)).toBeUndefined();
    expect(response.status).toBe(200);
    // `data` is typed from the document: a wrong field name here would not compile.
    const points: number = data!.data.points;
    expect(points).toBe(50);
    expect(data!.message).toBe("Event erfolgreich geloggt");
    expect(data!.data.balance).toBe(50);
  });

  it("refuses a wrong body at compile time, and the API refuses it at run time", async () => {
    const { alice } = await project();
    // @ts-expect-error userId is required by LogEventInput: the client does not compile without it.
    const missing = await alice.POST("/v1/event", { body: { eventId: "purchase_completed" } });
    expect(missing.response.status).toBe(400);
    expect(missing.error?.errors?.map((e) => e.path)).toContain("userId");

    // @ts-expect-error eventId is a string, not a number.
    const wrongType = await alice.POST("/v1/event", { body: { eventId: 42, userId: "alice" } });
    expect(wrongType.response.status).toBe(400);

    // @ts-expect-error no such path in the document.
    const unknown = await alice.GET("/v1/no-such-route", {});
    expect(unknown.response.status).toBe(404);
  });

  it("logs a batch with per-item idempotency keys", async () => {
    const { admin } = await project();
    const { data, error } = await admin.POST("/v1/events/batch", {
      body: {
        events: [
          { ...purchase("alice", 10), idempotencyKey: "b-1" },
          { ...purchase("bob", 20), idempotencyKey: "b-2" },
        ],
      },
    });
    expect(error).toBeUndefined();
    expect(data!.results.map((r) => r.statusCode)).toEqual([200, 200]);
    const again = unwrap(await admin.POST("/v1/events/batch", { body: { events: [{ ...purchase("alice", 10), idempotencyKey: "b-1" }] } }));
    expect(again.results[0]).toMatchObject({ statusCode: 200, replayed: true });
    expect(await balanceOf(admin, "alice")).toBe(10);
    expect(await balanceOf(admin, "bob")).toBe(20);
  });

  it("reads the stats once the queue has counted the events", async () => {
    const { admin } = await project();
    unwrap(await admin.POST("/v1/events/batch", { body: { events: [purchase("alice", 10), purchase("bob", 5), purchase("bob", 1)] } }));
    const stats = async () => {
      const { data } = await admin.GET("/v1/stats/event", { params: { query: { eventId: "purchase_completed", period: "7d" } } });
      return data && "totalCount" in data.data ? { count: data.data.totalCount, users: data.data.uniqueUsers, points: data.data.pointsAwarded } : null;
    };
    await expect.poll(stats, POLL).toEqual({ count: 3, users: 2, points: 16 });
  });

  it("walks every page of the ledger with the paging helper (relative Link headers)", async () => {
    const { admin } = await project();
    for (const amount of [1, 2, 3, 4, 5, 6, 7]) unwrap(await admin.POST("/v1/event", { body: purchase("alice", amount) }));
    const { accountId } = unwrap(await admin.GET("/v1/admin/users/{userId}", { params: { path: { userId: "alice" } } }));
    await ledgerHas(admin, accountId, 7);

    const seen: Array<{ url: string; size: number; total: string | null }> = [];
    for await (const page of pages(admin, "/v1/loyalty-events", { params: { query: { accountid: accountId, size: 3, sort: "id,asc" } } })) {
      seen.push({ url: page.url, size: page.items.length, total: page.response.headers.get("X-Total-Count") });
    }
    expect(seen.map((p) => p.size)).toEqual([3, 3, 1]);
    expect(seen.every((p) => p.total === "7")).toBe(true);
    // Each page was read from the Link the previous one named (its form, page number or cursor, is the API's).
    expect(new Set(seen.map((p) => p.url)).size, JSON.stringify(seen)).toBe(3);
    expect(seen.every((p) => p.url.startsWith(`${BASE}/v1/loyalty-events?`))).toBe(true);

    const all = await allItems(admin, "/v1/loyalty-events", { params: { query: { accountid: accountId, size: 3, sort: "id,asc" } } });
    const amounts: number[] = all.map((event) => event.reward?.rewardAmount ?? -1);
    expect(amounts).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(new Set(all.map((event) => event.id)).size).toBe(7);
    expect(all.every((event) => event.loyaltyAccountId === accountId)).toBe(true);
  });

  it("follows absolute Link URLs as they are, through the same credentials", async () => {
    const { admin, projectId } = await project();
    for (const amount of [1, 2, 3, 4, 5]) unwrap(await admin.POST("/v1/event", { body: purchase("alice", amount) }));
    const { accountId } = unwrap(await admin.GET("/v1/admin/users/{userId}", { params: { path: { userId: "alice" } } }));
    await ledgerHas(admin, accountId, 5);

    // A gateway that answers with absolute links to another host: the helper must go there, not to baseUrl.
    const requests: Array<{ url: string; authorized: boolean }> = [];
    const gateway: Fetch = async (request) => {
      requests.push({ url: request.url, authorized: request.headers.get("authorization")?.startsWith("Bearer ") ?? false });
      const response = await worker(request);
      const link = response.headers.get("Link");
      if (!link) return response;
      const headers = new Headers(response.headers);
      headers.set("Link", link.replace(/<\//g, "<https://mirror.example/"));
      return new Response(response.body, { status: response.status, headers });
    };
    const viaGateway = clientWith({ token: await adminToken(projectId) }, gateway);
    const all = await allItems(viaGateway, "/v1/loyalty-events", { params: { query: { accountid: accountId, size: 2, sort: "id,asc" } } });
    expect(all.map((event) => event.reward?.rewardAmount)).toEqual([1, 2, 3, 4, 5]);
    expect(requests.map((r) => new URL(r.url).host)).toEqual(["api.test", "mirror.example", "mirror.example"]);
    expect(requests.every((r) => r.authorized)).toBe(true);
  });

  it("a page that fails throws ApiError with the envelope", async () => {
    const { alice, admin } = await project();
    const { accountId } = unwrap(await admin.GET("/v1/admin/users/{userId}", { params: { path: { userId: "bob" } } }));
    // A user token reads only its own account: bob's is 403.
    const walking = allItems(alice, "/v1/loyalty-events", { params: { query: { accountid: accountId } } });
    await expect(walking).rejects.toBeInstanceOf(ApiError);
    await expect(walking).rejects.toMatchObject({ status: 403, envelope: { statusCode: 403 } });
  });

  it("adjusts a reward (refund) with an Idempotency-Key; a retry replays", async () => {
    const { admin } = await project();
    unwrap(await admin.POST("/v1/event", { body: purchase("alice", 40) }));
    const { accountId } = unwrap(await admin.GET("/v1/admin/users/{userId}", { params: { path: { userId: "alice" } } }));
    await ledgerHas(admin, accountId, 1);
    const [event] = await allItems(admin, "/v1/loyalty-events", { params: { query: { accountid: accountId } } });

    const refund = () =>
      admin.POST("/v1/loyalty-events/{id}/adjustments", {
        params: { path: { id: event!.id }, header: { "idempotency-key": "refund-1" } },
        body: { rewardAmount: 0, reason: "order returned" },
      });
    const first = await refund();
    expect(first.error, JSON.stringify(first.error)).toBeUndefined();
    expect(first.data!.id).toBe(event!.id);
    expect(first.data!.reward?.rewardAmount).toBe(0);
    expect(await balanceOf(admin, "alice")).toBe(0);

    const replay = await refund();
    expect(replay.response.headers.get("Idempotent-Replayed")).toBe("true");
    expect(await balanceOf(admin, "alice")).toBe(0);
  });
});

describe("logEvent: retries 429/503 with the same Idempotency-Key and Retry-After", () => {
  const busy = (status: 429 | 503, retryAfter: string) =>
    Response.json({ statusCode: status, message: "try again" }, { status, headers: { "Retry-After": retryAfter } });

  it("a 503 before the Worker (Retry-After: 0) is retried with the same key; the event counts once", async () => {
    const { projectId, admin } = await project();
    const keys: Array<string | null> = [];
    let failures = 1;
    const flaky: Fetch = async (request) => {
      keys.push(request.headers.get("Idempotency-Key"));
      return failures-- > 0 ? busy(503, "0") : worker(request);
    };
    const alice = clientWith({ token: await userToken(projectId, "alice") }, flaky);
    const retries: number[] = [];
    const result = await logEvent(alice, purchase("alice", 12), { onRetry: (r) => retries.push(r.status ?? 0) });
    expect(result.error).toBeUndefined();
    expect(result.data!.data.points).toBe(12);
    expect(retries).toEqual([503]);
    expect(keys).toHaveLength(2);
    expect(keys[0]).toBe(result.idempotencyKey);
    expect(keys[1]).toBe(keys[0]);
    expect(await balanceOf(admin, "alice")).toBe(12);
  });

  it("an answer lost as 429 (Retry-After: 1) after the Worker logged it: the retry waits, replays, awards nothing twice", async () => {
    const { projectId, admin } = await project();
    const keys: Array<string | null> = [];
    let lose = 1;
    const lossy: Fetch = async (request) => {
      keys.push(request.headers.get("Idempotency-Key"));
      const response = await worker(request);
      return lose-- > 0 ? busy(429, "1") : response;
    };
    const alice = clientWith({ token: await userToken(projectId, "alice") }, lossy);
    const started = Date.now();
    const result = await logEvent(alice, purchase("alice", 30), { idempotencyKey: "order-7" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(keys).toEqual(["order-7", "order-7"]);
    expect(result.response.headers.get("Idempotent-Replayed")).toBe("true");
    expect(result.data!.data.points).toBe(30);
    expect(await balanceOf(admin, "alice")).toBe(30);
  });

  it("a network failure is retried too; after the last attempt the answer (or failure) is the caller's", async () => {
    const { projectId } = await project();
    let calls = 0;
    const broken: Fetch = async (request) => {
      calls += 1;
      if (calls === 1) throw new TypeError("network connection lost");
      return calls < 10 ? busy(503, "0") : worker(request);
    };
    const alice = clientWith({ token: await userToken(projectId, "alice") }, broken);
    const result = await logEvent(alice, purchase("alice", 1), { attempts: 3, baseDelayMs: 1 });
    expect(calls).toBe(3);
    expect(result.response.status).toBe(503);
    expect(result.error?.message).toBe("try again");
  });

  it("does not wait longer than maxDelayMs: a far Retry-After comes back at once", async () => {
    const { projectId } = await project();
    let calls = 0;
    const limited: Fetch = async () => {
      calls += 1;
      return busy(429, "3600");
    };
    const alice = clientWith({ token: await userToken(projectId, "alice") }, limited);
    const result = await logEvent(alice, purchase("alice", 1), { maxDelayMs: 5_000 });
    expect(calls).toBe(1);
    expect(result.response.status).toBe(429);
    expect(retryAfterMs(result.response.headers.get("Retry-After"))).toBe(3_600_000);
  });

  it("withRetry leaves other statuses alone", async () => {
    let calls = 0;
    const result = await withRetry(async () => {
      calls += 1;
      return { response: new Response(null, { status: 422 }) };
    });
    expect(result.response.status).toBe(422);
    expect(calls).toBe(1);
  });
});

describe("Link and Retry-After parsing", () => {
  it("reads RFC 8288 links: several, quoted commas, several relations, relative and absolute targets", () => {
    const header =
      '</v1/loyalty-events?page=0&size=2>; rel="first", </v1/loyalty-events?page=2&size=2>; rel="next"; title="a, b", <https://x.example/last>; rel="last LAST"';
    const links = parseLinkHeader(header);
    expect(links.map((l) => [l.target, l.rel])).toEqual([
      ["/v1/loyalty-events?page=0&size=2", ["first"]],
      ["/v1/loyalty-events?page=2&size=2", ["next"]],
      ["https://x.example/last", ["last", "last"]],
    ]);
    expect(links[1]!.params.title).toBe("a, b");
    expect(nextPageUrl(header, "https://api.example/v3/loyalty-events?page=1")?.href).toBe("https://api.example/v1/loyalty-events?page=2&size=2");
    expect(nextPageUrl("<page-3>; rel=next", "https://api.example/v1/list?page=2")?.href).toBe("https://api.example/v1/page-3");
    expect(nextPageUrl('</a>; rel="prev"', "https://api.example/")).toBeNull();
    expect(nextPageUrl(null, "https://api.example/")).toBeNull();
  });

  it("reads Retry-After as seconds or an HTTP date", () => {
    const now = Date.parse("2026-11-28T10:00:00Z");
    expect(retryAfterMs("10", now)).toBe(10_000);
    expect(retryAfterMs("0", now)).toBe(0);
    expect(retryAfterMs("Sat, 28 Nov 2026 10:00:30 GMT", now)).toBe(30_000);
    expect(retryAfterMs("Sat, 28 Nov 2026 09:00:00 GMT", now)).toBe(0);
    expect(retryAfterMs("soon", now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
  });
});
