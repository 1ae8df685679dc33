import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { getDb } from "../../src/db/client";
import { decodeLedgerCursor, encodeLedgerCursor, type LedgerSort, type LoyaltyEvent } from "../../src/domain/ledger";
import type { EventLoggedEnvelope } from "../../src/domain/logged-event";
import type { EventStatsBody } from "../../src/routes/stats";
import type { UserBody } from "../../src/routes/admin-users";
import { ledgerPage, type LedgerQuery } from "../../src/services/ledger";
import { deliver, loggedEvent } from "../fixtures";
import { adminToken, api, newProject, POLL, setupProject, userObject, userToken, type Credential } from "../helpers";
import { rowsReadD1 } from "../rows-read";
import { LOGGED } from "../log-rows";

const definitions = {
  purchase: {
    title: "Purchase",
    type: "TRANSACTION",
    rewardValueField: "amount",
    reward: { default: 1 },
    loyaltyEventType: "TRANSACTION_ASSESSMENT",
    customerMessage: "You earned {points} points for {title}; balance {balance}",
    conditions: { type: "AND", conditions: [{ field: "amount", operator: "greater_than", value: 0 }] },
  },
  login: { title: "Login", reward: { default: 5 } },
  card: { title: "Card", reward: { default: 2 }, loyaltyEventType: "CARD_ASSIGNMENT", allowRewardIncrease: true },
  cashback: { title: "Cashback", type: "TRANSACTION", rewardValueField: "amount", reward: { default: 5 }, rewardType: "PERCENTAGE", maximumReward: 10 },
  voucher: { title: "Voucher", reward: { default: 2.5, gold: 4 }, rewardType: "FLAT_AMOUNT", rewardCurrency: "EUR" },
};

type Page = { status: number; items: LoyaltyEvent[]; total: number; links: Record<string, string>; json: unknown };

async function ledger(auth: Credential, query = "", accept?: string): Promise<Page> {
  const path = `/v1/loyalty-events${query ? `?${query}` : ""}`;
  const res = await api<LoyaltyEvent[]>("GET", path, { auth, headers: accept === undefined ? {} : { accept } });
  const links: Record<string, string> = {};
  for (const part of (res.headers.get("link") ?? "").split(", ").filter(Boolean)) {
    const match = /^<([^>]+)>; rel="(\w+)"$/.exec(part);
    if (!match) continue;
    // Links are relative: the path as asked for (any version prefix) and the query, never a host.
    expect(match[1]!.startsWith(`${path.split("?")[0]}?`), match[1]).toBe(true);
    links[match[2]!] = match[1]!.slice(match[1]!.indexOf("?"));
  }
  return { status: res.status, items: res.json, total: Number(res.headers.get("x-total-count")), links, json: res.json };
}

const log = (auth: Credential, eventId: string, userId: string, timestamp: string, metadata: Record<string, unknown> = {}) =>
  api<EventLoggedEnvelope>("POST", "/v1/event", { auth, body: { eventId, userId, metadata, timestamp } });

/**
 * The project's raw-log window (90 days by default; the ledger across accounts refuses times before it) wide
 * enough for this file's fixed dates, whatever today is.
 */
async function wideWindow(projectKey: string) {
  const res = await api("PUT", `/v1/operator/projects/${projectKey}/settings`, {
    auth: { bearer: await adminToken(projectKey) },
    body: { logWindowDays: 36_500 },
  });
  expect(res.status, res.text).toBe(200);
}

/** A project with a fixed history: 8 events over three days, two at the same instant. */
async function seeded() {
  const project = await setupProject({ definitions, users: { alice: [], bob: ["gold"] } });
  await wideWindow(project.projectId);
  const { admin } = project;
  const at = (day: number, hour: number) => `2026-11-${String(day).padStart(2, "0")}T${String(hour).padStart(2, "0")}:00:00.000Z`;
  const logs = [
    await log(admin, "purchase", "alice", at(10, 9), { amount: 40, currency: "EUR", transactionId: 2001 }),
    await log(admin, "login", "alice", at(10, 12)),
    await log(admin, "card", "bob", at(11, 8)),
    await log(admin, "purchase", "bob", at(11, 8), { amount: -1 }),
    await log(admin, "cashback", "alice", at(11, 15), { amount: 150, currency: "USD" }),
    await log(admin, "voucher", "bob", at(12, 10)),
    await log(admin, "login", "bob", at(12, 11)),
    await log(admin, "purchase", "alice", at(12, 23), { amount: 10, transactionId: "T-9" }),
  ];
  for (const res of logs) expect(res.status, res.text).toBe(200);
  await expect.poll(async () => (await ledger(admin)).total, POLL).toBe(8);
  const accounts = Object.fromEntries(
    await Promise.all(["alice", "bob"].map(async (u) => [u, (await api<UserBody>("GET", `/v1/admin/users/${u}`, { auth: admin })).json.accountId] as const)),
  ) as Record<"alice" | "bob", number>;
  return { ...project, accounts };
}

describe("GET /v1/loyalty-events: the spec's shape", () => {
  it("maps each logged event, its reward, rule, message and transaction id", async () => {
    const { admin, accounts } = await seeded();
    const { items } = await ledger(admin, "sort=timestamp,asc");
    const purchase = items[0]!;
    expect(purchase).toEqual({
      id: expect.any(Number),
      loyaltyAccountId: accounts.alice,
      loyaltyProgramId: expect.any(Number),
      reward: {
        id: purchase.id,
        rewardType: "LOYALTY_POINTS",
        rewardAmount: 40,
        rewardCurrency: "EUR",
        previousRewardAmount: null,
        customerMessage: "You earned 40 points for Purchase; balance 40",
        ruleId: expect.any(Number),
        trancoreId: 2001,
        loyaltyEventId: purchase.id,
        createdAt: purchase.createdAt,
        updatedAt: purchase.createdAt,
      },
      eventType: "TRANSACTION_ASSESSMENT",
      eventDetails: { amount: 40, currency: "EUR", transactionId: 2001 },
      timestamp: "2026-11-10T09:00:00.000Z",
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      updatedAt: purchase.createdAt,
    });
    const byTime = (t: string) => items.find((i) => i.timestamp === t && i.loyaltyAccountId === accounts.bob)!;
    // A log that awarded nothing has no reward; the event type falls back by the definition's type.
    const failed = items.find((i) => i.eventDetails.amount === -1)!;
    expect(failed).toMatchObject({ reward: null, eventType: "TRANSACTION_ASSESSMENT" });
    expect(byTime("2026-11-12T11:00:00.000Z")).toMatchObject({ eventType: "CUSTOMER_CARD_DISPLAYED", reward: { rewardAmount: 5, customerMessage: null } });
    expect(items.find((i) => i.eventType === "CARD_ASSIGNMENT")!.reward!.ruleId).not.toBe(purchase.reward!.ruleId);
    // Monetary rewards: 5 % of 150 USD is 7.5, in the transaction's currency; a flat 4 EUR for a gold member.
    expect(items.find((i) => i.reward?.rewardType === "PERCENTAGE")!.reward).toMatchObject({ rewardAmount: 7.5, rewardCurrency: "USD" });
    expect(byTime("2026-11-12T10:00:00.000Z").reward).toMatchObject({ rewardType: "FLAT_AMOUNT", rewardAmount: 4, rewardCurrency: "EUR" });
    expect(items.at(-1)!.reward).toMatchObject({ trancoreId: null, rewardCurrency: null });
    expect((await api<UserBody>("GET", "/v1/admin/users/alice", { auth: admin })).json.balance).toBe(55);
  });

  it("shows monetary rewards in the log's answer and adds no points", async () => {
    const { admin } = await setupProject({ definitions, users: { alice: [] } });
    const res = await log(admin, "cashback", "alice", new Date().toISOString(), { amount: 1000, currency: "EUR" });
    expect(res.json.data).toMatchObject({ points: 0, balance: 0, reward: { rewardType: "PERCENTAGE", rewardAmount: 10, rewardCurrency: "EUR" } });
    expect(res.json.data.reasons).toEqual([{ code: "MAXIMUM_REWARD_APPLIED", uncappedPoints: 50, maximumReward: 10 }]);
  });

  it("400s monetary definitions that cannot work", async () => {
    const { admin } = await setupProject();
    const put = (body: unknown) => api("PUT", "/v1/admin/events/x", { auth: admin, body });
    expect((await put({ title: "x", reward: { default: 1 }, rewardType: "PERCENTAGE" })).json.errors?.[0]?.path).toBe("rewardType");
    expect((await put({ title: "x", reward: { default: 1 }, rewardType: "FLAT_AMOUNT" })).json.errors?.[0]?.path).toBe("rewardCurrency");
    expect((await put({ title: "x", reward: { default: 1 }, rewardCurrency: "eur" })).json.errors?.[0]?.path).toBe("rewardCurrency");
  });
});

describe("GET /v1/loyalty-events: filters, sorting, paging", () => {
  it("filters by account, program, type and inclusive time bounds, alone and combined", async () => {
    const { admin, accounts } = await seeded();
    const ids = async (query: string) => (await ledger(admin, query)).items.map((i) => i.timestamp.slice(8, 13));
    expect(await ids(`accountid=${accounts.bob}&sort=timestamp,asc`)).toEqual(["11T08", "11T08", "12T10", "12T11"]);
    expect((await ledger(admin, `accountid=${accounts.bob}`)).total).toBe(4);
    // cashback has no loyaltyEventType: a TRANSACTION event, so TRANSACTION_ASSESSMENT too.
    expect(await ids("eventtype=TRANSACTION_ASSESSMENT&sort=timestamp,asc")).toEqual(["10T09", "11T08", "11T15", "12T23"]);
    expect((await ledger(admin, "eventtype=CARD_ASSIGNMENT")).total).toBe(1);
    expect(await ids("timestampfrom=2026-11-11T08:00:00Z&timestampto=2026-11-12T10:00:00Z&sort=timestamp,asc")).toEqual(["11T08", "11T08", "11T15", "12T10"]);
    expect((await ledger(admin, "timestampfrom=2026-11-11T08:00:00Z&timestampto=2026-11-12T10:00:00Z")).total).toBe(4);
    // Bounds with offsets mean the same instants; partial hours at both ends count exactly.
    expect((await ledger(admin, "timestampfrom=2026-11-11T09:00:00%2B01:00&timestampto=2026-11-12T10:30:00Z")).total).toBe(4);
    expect((await ledger(admin, "timestampfrom=2026-11-11T08:00:00.001Z")).total).toBe(4); // the two at 08:00:00.000 fall out
    const combined = `accountid=${accounts.alice}&eventtype=TRANSACTION_ASSESSMENT&timestampfrom=2026-11-10T09:00:00Z&timestampto=2026-11-12T23:00:00Z`;
    expect(await ids(combined)).toEqual(["12T23", "11T15", "10T09"]);
    expect((await ledger(admin, combined)).total).toBe(3);
    const programId = (await ledger(admin)).items[0]!.loyaltyProgramId;
    expect((await ledger(admin, `programid=${programId}`)).total).toBe(8);
    const other = await ledger(admin, `programid=${programId + 1000}`);
    expect([other.status, other.items, other.total]).toEqual([200, [], 0]);
  });

  it("sorts by timestamp, id and createdAt in both directions, id breaking ties the same way", async () => {
    const { admin } = await seeded();
    const all = (await ledger(admin, "sort=id,asc&size=100")).items;
    const ids = all.map((i) => i.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect((await ledger(admin, "sort=id,desc")).items.map((i) => i.id)).toEqual([...ids].reverse());
    const byTime = (await ledger(admin, "sort=timestamp,asc")).items;
    const tied = byTime.filter((i) => i.timestamp === "2026-11-11T08:00:00.000Z").map((i) => i.id);
    expect(tied).toEqual([...tied].sort((a, b) => a - b));
    const desc = (await ledger(admin, "sort=timestamp,desc")).items;
    expect(desc.map((i) => i.id)).toEqual(byTime.map((i) => i.id).reverse());
    expect((await ledger(admin, "")).items.map((i) => i.id)).toEqual(desc.map((i) => i.id)); // default timestamp,desc
    expect((await ledger(admin, "sort=timestamp")).items.map((i) => i.id)).toEqual(byTime.map((i) => i.id)); // a field alone: asc
    const created = (await ledger(admin, "sort=createdAt,asc")).items.map((i) => i.createdAt);
    expect(created).toEqual([...created].sort());
  });

  it("pages without overlap or gaps, answers [] past the end, and links first, prev, next and last", async () => {
    const { admin } = await seeded();
    const everything = (await ledger(admin, "size=100")).items.map((i) => i.id);
    const pages = await Promise.all([0, 1, 2].map((page) => ledger(admin, `size=3&page=${page}`)));
    expect(pages.flatMap((p) => p.items.map((i) => i.id))).toEqual(everything);
    expect(pages.map((p) => p.total)).toEqual([8, 8, 8]);
    // next carries a cursor (it continues exactly after the page, at any depth); first, prev and last are page numbers.
    const cursorLink = expect.stringMatching(/^\?size=3&cursor=[\w-]+$/);
    expect(pages[0]!.links).toEqual({ first: "?size=3&page=0", next: cursorLink, last: "?size=3&page=2" });
    expect(pages[1]!.links).toEqual({ first: "?size=3&page=0", prev: "?size=3&page=0", next: cursorLink, last: "?size=3&page=2" });
    expect(pages[2]!.links).toEqual({ first: "?size=3&page=0", prev: "?size=3&page=1", last: "?size=3&page=2" });
    expect((await ledger(admin, pages[0]!.links.next!.slice(1))).items).toEqual(pages[1]!.items);
    const past = await ledger(admin, "size=3&page=9&eventtype=CARD_ASSIGNMENT");
    expect([past.status, past.items, past.total]).toEqual([200, [], 1]);
    expect(past.links).toEqual({
      first: "?size=3&page=0&eventtype=CARD_ASSIGNMENT",
      prev: "?size=3&page=0&eventtype=CARD_ASSIGNMENT",
      last: "?size=3&page=0&eventtype=CARD_ASSIGNMENT",
    });
  });

  it("links pages relative to the path asked for, whatever Host the request names", async () => {
    const { admin } = await seeded();
    const res = await api<LoyaltyEvent[]>("GET", "/v3/loyalty-events?page=1&size=3", { auth: admin, headers: { host: "attacker.example" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("link")).toMatch(
      new RegExp(
        '^</v3/loyalty-events\\?page=0&size=3>; rel="first", </v3/loyalty-events\\?page=0&size=3>; rel="prev", ' +
          '</v3/loyalty-events\\?size=3&cursor=[\\w-]+>; rel="next", </v3/loyalty-events\\?page=2&size=3>; rel="last"$',
      ),
    );
  });

  it("walks every entry exactly once by following the cursor in Link: rel=next, in every sort and under filters", async () => {
    const { admin, accounts } = await seeded();
    const queries = [
      "sort=timestamp,desc",
      "sort=timestamp,asc",
      "sort=id,desc",
      "sort=id,asc",
      "sort=createdAt,asc",
      "sort=createdAt,desc",
      `accountid=${accounts.bob}&sort=timestamp,asc`,
      "eventtype=TRANSACTION_ASSESSMENT&timestampfrom=2026-11-10T09:00:00Z",
    ];
    for (const query of queries) {
      const everything = (await ledger(admin, `${query}&size=100`)).items.map((i) => i.id);
      expect(everything.length, query).toBeGreaterThan(2);
      for (const size of [1, 2, 3]) {
        let page = await ledger(admin, `${query}&size=${size}`);
        const walked = page.items.map((i) => i.id);
        while (page.links.next !== undefined) {
          page = await ledger(admin, page.links.next.slice(1));
          expect(page.status).toBe(200);
          expect(page.total, query).toBe(everything.length);
          expect(page.links.prev, "a cursor page has no prev").toBeUndefined();
          walked.push(...page.items.map((i) => i.id));
        }
        expect(walked, `${query}, size ${size}`).toEqual(everything);
      }
    }
  });

  it.each([
    ["eventtype=PURCHASE", "eventtype"],
    ["size=0", "size"],
    ["size=101", "size"],
    ["page=-1", "page"],
    ["sort=amount,desc", "sort"],
    ["sort=timestamp,down", "sort"],
    ["timestampfrom=2026-11-12T00:00:00Z&timestampto=2026-11-11T00:00:00Z", "timestampfrom"],
    ["timestampfrom=yesterday", "timestampfrom"],
    ["accountid=abc", "accountid"],
    ["programid=-4", "programid"],
    ["page=20000&size=100", "page"],
    ["page=501&size=20", "page"],
    ["cursor=not*a*cursor", "cursor"],
    ["cursor=eyJ4IjoxfQ", "cursor"],
    [`sort=timestamp,desc&cursor=${encodeLedgerCursor({ field: "id", direction: "desc" }, { value: 5, id: 5 })}`, "cursor"],
    [`page=1&cursor=${encodeLedgerCursor({ field: "timestamp", direction: "desc" }, { value: "2026-11-12T10:00:00.000Z", id: 5 })}`, "page"],
  ])("400 for %s naming %s", async (query, path) => {
    const { admin } = await setupProject();
    const res = await api("GET", `/v1/loyalty-events?${query}`, { auth: admin });
    expect(res.status).toBe(400);
    expect(res.json.errors?.[0]?.path).toBe(path);
  });

  it("answers JSON unless the Accept header excludes it (406)", async () => {
    const { admin } = await setupProject();
    for (const accept of [undefined, "*/*", "application/json", "text/html, application/json;q=0.8", "application/*"]) {
      expect((await ledger(admin, "", accept)).status).toBe(200);
    }
    const refused = await api("GET", "/v1/loyalty-events", { auth: admin, headers: { accept: "text/html" } });
    expect(refused.status).toBe(406);
    expect(refused.json).toMatchObject({ statusCode: 406 });
    expect((await ledger(admin, "", "application/json;q=0")).status).toBe(406);
  });
});

describe("GET /v1/loyalty-events: rights", () => {
  it("gives a user token its own account only, and another project nothing", async () => {
    const { admin, projectId, accounts } = await seeded();
    const alice = { bearer: await userToken(projectId, "alice") };
    const own = await ledger(alice);
    expect(own.total).toBe(4);
    expect(new Set(own.items.map((i) => i.loyaltyAccountId))).toEqual(new Set([accounts.alice]));
    expect((await ledger(alice, `accountid=${accounts.alice}`)).total).toBe(4);
    expect((await ledger(alice, `accountid=${accounts.bob}`)).status).toBe(403);
    const bobsEvent = (await ledger(admin, `accountid=${accounts.bob}`)).items[0]!;
    expect((await api("GET", `/v1/loyalty-events/${bobsEvent.id}`, { auth: alice })).status).toBe(404);
    expect((await api<LoyaltyEvent>("GET", `/v1/loyalty-events/${bobsEvent.id}`, { auth: admin })).json).toEqual(bobsEvent);
    const stranger = await setupProject();
    expect((await ledger(stranger.admin, `accountid=${accounts.bob}`)).items).toEqual([]);
    expect((await ledger(stranger.admin, `programid=${bobsEvent.loyaltyProgramId}`)).items).toEqual([]);
    expect((await api("GET", `/v1/loyalty-events/${bobsEvent.id}`, { auth: stranger.admin })).status).toBe(404);
    expect((await api("POST", `/v1/loyalty-events/${bobsEvent.id}/adjustments`, { auth: stranger.admin, body: { rewardAmount: 0, reason: "x" } })).status).toBe(
      404,
    );
    expect((await api("POST", `/v1/loyalty-events/${bobsEvent.id}/adjustments`, { auth: alice, body: { rewardAmount: 0, reason: "x" } })).status).toBe(403);
  });
});

describe("POST /v1/loyalty-events/{id}/adjustments", () => {
  const adjust = (auth: Credential, id: number, body: Record<string, unknown>, key?: string) =>
    api<LoyaltyEvent>("POST", `/v1/loyalty-events/${id}/adjustments`, { auth, body, headers: key ? { "idempotency-key": key } : {} });
  const balanceOf = async (admin: Credential, userId: string) => (await api<UserBody>("GET", `/v1/admin/users/${userId}`, { auth: admin })).json.balance;
  const item = async (admin: Credential, id: number) => (await api<LoyaltyEvent>("GET", `/v1/loyalty-events/${id}`, { auth: admin })).json;

  it("refunds a reward once: balance, ledger and the stats of the event's own day move by the difference", async () => {
    const { admin } = await seeded();
    const purchase = (await ledger(admin, "eventtype=TRANSACTION_ASSESSMENT&sort=timestamp,asc")).items[0]!;
    const refund = await adjust(admin, purchase.id, { rewardAmount: 15, reason: "partial return" }, "refund-1");
    expect(refund.status).toBe(200);
    expect(refund.json.reward).toMatchObject({ rewardAmount: 15, previousRewardAmount: 40 });
    expect(refund.json.updatedAt > purchase.updatedAt).toBe(true);
    expect(await balanceOf(admin, "alice")).toBe(30);
    // Retried with the same key: replayed, nothing moves again.
    const retry = await adjust(admin, purchase.id, { rewardAmount: 15, reason: "partial return" }, "refund-1");
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    expect(retry.json).toEqual(refund.json);
    expect(await balanceOf(admin, "alice")).toBe(30);
    // The user's object keeps the ledger: the item shows the adjustment as soon as it is answered.
    expect((await item(admin, purchase.id)).reward).toMatchObject({ rewardAmount: 15, previousRewardAmount: 40 });
    expect((await item(admin, purchase.id)).updatedAt).toBe(refund.json.updatedAt);
    // A full refund: previousRewardAmount is the amount before this adjustment.
    await adjust(admin, purchase.id, { rewardAmount: 0, reason: "cancelled" });
    expect((await item(admin, purchase.id)).reward).toMatchObject({ rewardAmount: 0, previousRewardAmount: 15 });
    expect(await balanceOf(admin, "alice")).toBe(15);
    // The ledger (the user's object) shows the adjustment at once; the stats follow through the queue.
    const stats = async () => (await api<EventStatsBody>("GET", "/v1/stats/event?eventId=purchase&timeframe=month&month=2026-11", { auth: admin })).json.data;
    await expect.poll(async () => (await stats()).pointsAwarded, POLL).toBe(10); // 40 - 40 + 10 (the other purchase)
    expect((await stats()).dailyData["2026-11-10"]!.points).toBe(0);
  });

  it("keeps adjustment keys apart from log keys: a user's log key `adjustment:k1` does not block adjustment key k1", async () => {
    const { admin, projectId } = await seeded();
    const alice = { bearer: await userToken(projectId, "alice") };
    const purchase = (await ledger(admin, "eventtype=TRANSACTION_ASSESSMENT&sort=timestamp,asc")).items[0]!;
    const logWithKey = () =>
      api<EventLoggedEnvelope>("POST", "/v1/event", {
        auth: alice,
        body: { eventId: "login", userId: "alice" },
        headers: { "idempotency-key": "adjustment:k1" },
      });
    expect((await logWithKey()).status).toBe(200);
    const before = await balanceOf(admin, "alice");

    const refund = await adjust(admin, purchase.id, { rewardAmount: 0, reason: "returned" }, "k1");
    expect(refund.status, refund.text).toBe(200);
    expect(refund.headers.get("idempotent-replayed")).toBeNull();
    expect(refund.json.reward).toMatchObject({ rewardAmount: 0, previousRewardAmount: 40 });
    expect(await balanceOf(admin, "alice")).toBe(before - 40);
    // Each key still replays its own request.
    const retry = await adjust(admin, purchase.id, { rewardAmount: 0, reason: "returned" }, "k1");
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    const logRetry = await logWithKey();
    expect(logRetry.headers.get("idempotent-replayed")).toBe("true");
    expect(await balanceOf(admin, "alice")).toBe(before - 40);
  });

  it("applies each adjustment once under parallel retries and sees an earlier one", async () => {
    const { admin } = await seeded();
    const purchase = (await ledger(admin, "eventtype=TRANSACTION_ASSESSMENT&sort=timestamp,asc")).items[0]!;
    const same = await Promise.all(Array.from({ length: 10 }, () => adjust(admin, purchase.id, { rewardAmount: 30, reason: "r" }, "k-1")));
    expect(same.every((r) => r.status === 200)).toBe(true);
    expect(await balanceOf(admin, "alice")).toBe(45);
    // Different keys in parallel: the first moves 30 -> 20, the others see 20 and move nothing.
    const others = await Promise.all(Array.from({ length: 5 }, (_, i) => adjust(admin, purchase.id, { rewardAmount: 20, reason: "r" }, `k-${i + 2}`)));
    expect(others.map((r) => r.json.reward!.previousRewardAmount).sort()).toEqual([20, 20, 20, 20, 30]);
    expect(await balanceOf(admin, "alice")).toBe(35);
  });

  it("refuses negative amounts, increases the definition does not allow, and amounts finer than the reward type", async () => {
    const { admin } = await seeded();
    const items = (await ledger(admin, "sort=timestamp,asc")).items;
    const purchase = items[0]!;
    const card = items.find((i) => i.eventType === "CARD_ASSIGNMENT")!;
    const voucher = items.find((i) => i.reward?.rewardType === "FLAT_AMOUNT")!;
    for (const rewardAmount of [-1, 41, 12.5]) {
      const res = await api("POST", `/v1/loyalty-events/${purchase.id}/adjustments`, { auth: admin, body: { rewardAmount, reason: "x" } });
      expect(res.status).toBe(400);
      expect(res.json.errors?.[0]?.path).toBe("rewardAmount");
    }
    expect((await adjust(admin, voucher.id, { rewardAmount: 1.255, reason: "x" })).status).toBe(400);
    // The card definition allows increases: 2 -> 10 points.
    expect(await balanceOf(admin, "bob")).toBe(7);
    expect((await adjust(admin, card.id, { rewardAmount: 10, reason: "goodwill" })).json.reward).toMatchObject({ rewardAmount: 10, previousRewardAmount: 2 });
    expect(await balanceOf(admin, "bob")).toBe(15);
    // Money adjustments leave the points alone.
    expect((await adjust(admin, voucher.id, { rewardAmount: 1.25, reason: "x" })).json.reward).toMatchObject({ rewardAmount: 1.25, previousRewardAmount: 4 });
    expect(await balanceOf(admin, "bob")).toBe(15);
  });

  it("answers 422 when a refund would take the balance below zero, unless allowNegativeBalance", async () => {
    const { admin, projectId } = await seeded();
    const purchase = (await ledger(admin, "eventtype=TRANSACTION_ASSESSMENT&sort=timestamp,asc")).items[0]!;
    // Alice has spent all but 3 points (redemption is not an API yet: set the balance in her object, then
    // restart it, as it keeps its profile in memory).
    await runInDurableObject(userObject(projectId, "alice"), (_instance, state) => state.storage.sql.exec("UPDATE profile SET balance = 3"));
    await evictDurableObject(userObject(projectId, "alice"));
    const refused = await adjust(admin, purchase.id, { rewardAmount: 0, reason: "return" });
    expect(refused.status).toBe(422);
    expect(refused.json).toMatchObject({ statusCode: 422 });
    expect(await balanceOf(admin, "alice")).toBe(3);
    const allowed = await adjust(admin, purchase.id, { rewardAmount: 0, reason: "return", allowNegativeBalance: true });
    expect(allowed.status).toBe(200);
    expect(await balanceOf(admin, "alice")).toBe(-37);
  });

  it("is order-independent and idempotent in the consumer: a late older adjustment never overwrites a newer one", async () => {
    const { admin, projectId } = await seeded();
    const purchase = (await ledger(admin, "eventtype=TRANSACTION_ASSESSMENT&sort=timestamp,asc")).items[0]!;
    const { results } = await env.DB.prepare(`SELECT event_uid FROM ${LOGGED} WHERE ledger_id = ?`).bind(purchase.id).all<{ event_uid: string }>();
    const eventUid = results[0]!.event_uid;
    // Two adjustments as the user's object would send them: 40 -> 30 (seq 100), then 30 -> 20 (seq 101).
    const adjustment = (seq: number, previousAmount: number, newAmount: number) => ({
      kind: "adjustment",
      adjustmentUid: crypto.randomUUID(),
      projectKey: projectId,
      userId: "alice",
      eventUid,
      seq,
      previousAmount,
      newAmount,
      pointsDelta: newAmount - previousAmount,
      reason: "r",
      adjustedAt: new Date(Date.UTC(2026, 10, 20, 0, 0, seq)).toISOString(),
    });
    const first = adjustment(100, 40, 30);
    const second = adjustment(101, 30, 20);
    const points = async () =>
      (await env.DB.prepare("SELECT points FROM stats_daily WHERE project_key = ? AND event_id = 'purchase' AND bucket = '2026-11-10'")
        .bind(projectId)
        .first<{ points: number }>())!.points;
    expect(await points()).toBe(40);
    expect((await deliver([second])).retryMessages).toEqual([]);
    expect((await deliver([first])).retryMessages).toEqual([]); // late and older
    // D1's copy of the ledger, as the listing across accounts reads it (the user's object never saw these).
    const inLog = async () => (await ledger(admin, "eventtype=TRANSACTION_ASSESSMENT&sort=timestamp,asc")).items.find((i) => i.id === purchase.id);
    expect(await inLog()).toMatchObject({ reward: { rewardAmount: 20, previousRewardAmount: 30 }, updatedAt: second.adjustedAt });
    expect(await points()).toBe(20);
    expect((await deliver([first, second, second])).retryMessages).toEqual([]); // redelivered
    expect(await inLog()).toMatchObject({ reward: { rewardAmount: 20, previousRewardAmount: 30 } });
    expect(await points()).toBe(20);
  });
});

describe("GET /v1/loyalty-events: what a page costs", () => {
  const admin = (projectKey: string) => ({ kind: "admin", projectKey, userId: "ops", root: true }) as const;

  /** `count` events of a new project through the consumer: 40 per minute (ties), two accounts, ledger types by `typeOf`. */
  async function bigLedger(count: number, typeOf = (i: number): string | null => (i % 3 === 0 ? "CARD_ASSIGNMENT" : null)) {
    const projectKey = newProject();
    await wideWindow(projectKey);
    const start = Date.UTC(2026, 0, 1);
    const events = Array.from({ length: count }, (_, i) =>
      loggedEvent(projectKey, {
        accountId: 1 + (i % 2),
        userId: `u${i % 2}`,
        loyaltyEventType: typeOf(i),
        occurredAt: new Date(start + Math.floor(i / 40) * 60_000).toISOString(),
        recordedAt: new Date(start + Math.floor(i / 40) * 1_000).toISOString(),
      }),
    );
    for (let i = 0; i < events.length; i += 1000) expect((await deliver(events.slice(i, i + 1000))).retryMessages).toEqual([]);
    return { projectKey, events };
  }

  /** One page through the service, with the rows D1 read for it (page, cursor page and total together). */
  async function measured(projectKey: string, query: Partial<LedgerQuery> & { sort: LedgerSort }) {
    const meter = rowsReadD1(env.DB);
    const page = await ledgerPage({ USER_STATE: env.USER_STATE }, getDb(meter.db), admin(projectKey), { page: 0, size: 20, ...query });
    return { page, rows: meter.rowsRead() };
  }

  it("reads as many rows for a page 900 entries deep by cursor as for the first page, in every sort and filter", async () => {
    const { projectKey } = await bigLedger(3000);
    const sorts: LedgerSort[] = [
      { field: "timestamp", direction: "desc" },
      { field: "timestamp", direction: "asc" },
      { field: "createdAt", direction: "desc" },
      { field: "id", direction: "asc" },
    ];
    const filters: Array<Partial<LedgerQuery>> = [{}, { accountId: 1 }, { eventType: "CARD_ASSIGNMENT" }, { accountId: 2, from: "2026-01-01T00:10:00.000Z" }];
    for (const sort of sorts) {
      for (const filter of filters) {
        const label = `${sort.field},${sort.direction} ${JSON.stringify(filter)}`;
        const near = await measured(projectKey, { ...filter, sort });
        const byOffset = await measured(projectKey, { ...filter, sort, page: 45 });
        const position = decodeLedgerCursor(byOffset.page.next!, sort);
        if (typeof position === "string") throw new Error(position);
        const deep = await measured(projectKey, { ...filter, sort, after: position });
        expect(deep.page.items, label).toHaveLength(20);
        expect(deep.page.total, label).toBe(near.page.total);
        // The meter sees an offset's walk (900 index entries)...
        expect(byOffset.rows, label).toBeGreaterThan(near.rows + 800);
        // ...and a cursor page costs what the first page costs.
        expect(deep.rows, label).toBeLessThanOrEqual(near.rows + 2);
      }
    }
  });

  it("counts totals exactly from aggregates, or up to 10,000 from the log and says so, never reading more", async () => {
    const { projectKey, events } = await bigLedger(10_400, (i) => (i % 100 === 0 ? "CARD_ASSIGNMENT" : i % 100 === 1 ? "TRANSACTION_ASSESSMENT" : null));
    const auth = { bearer: await adminToken(projectKey) };
    const total = async (query: string) => {
      const res = await api<LoyaltyEvent[]>("GET", `/v1/loyalty-events?size=5&${query}`, { auth });
      expect(res.status, res.text).toBe(200);
      return { total: Number(res.headers.get("x-total-count")), capped: res.headers.get("x-total-count-capped") };
    };
    const matching = (test: (e: (typeof events)[number]) => boolean) => events.filter(test).length;
    const cards = matching((e) => e.loyaltyEventType === null);
    expect(cards).toBeGreaterThan(10_000);
    // The whole project, an account, a project-wide time range (whole hours from the stats, partial ones from the log): exact.
    expect(await total("")).toEqual({ total: 10_400, capped: null });
    expect(await total("accountid=1")).toEqual({ total: 5_200, capped: null });
    const [from, to] = ["2026-01-01T00:30:30.000Z", "2026-01-01T03:15:00.000Z"];
    expect(await total(`timestampfrom=${from}&timestampto=${to}`)).toEqual({
      total: matching((e) => e.occurredAt >= from && e.occurredAt <= to),
      capped: null,
    });
    // A filter no aggregate answers: exact below the cap, the cap and X-Total-Count-Capped past it.
    expect(await total("eventtype=TRANSACTION_ASSESSMENT")).toEqual({ total: matching((e) => e.loyaltyEventType === "TRANSACTION_ASSESSMENT"), capped: null });
    expect(await total("eventtype=CUSTOMER_CARD_DISPLAYED")).toEqual({ total: 10_000, capped: "true" });
    const capped = await measured(projectKey, { eventType: "CUSTOMER_CARD_DISPLAYED", sort: { field: "timestamp", direction: "desc" } });
    expect(capped.rows).toBeLessThan(10_001 + 50);
    const whole = await measured(projectKey, { sort: { field: "timestamp", direction: "desc" }, from, to });
    expect(whole.rows).toBeLessThan(2 * 40 * 60 + 200); // two partial hours at most, not the 6,600 events between
  });
});
