import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { UserBody } from "../../src/routes/admin-users";
import { LEDGER_ID_SPAN, type LedgerSort, type LoyaltyEvent } from "../../src/domain/ledger";
import type { LoggedEventMessage } from "../../src/domain/logged-event";
import { schemaVersion, USER_STATE_MIGRATIONS } from "../../src/durable/migrations";
import { appendToLedger, type LedgerReadQuery } from "../../src/durable/storage/ledger";
import type { LedgerPageAnswer } from "../../src/durable/user-state";
import { fillNextLedgers, LEDGER_FILL_KEY, legacyLedgersCopied } from "../../src/services/ledger-fill";
import { deliver, loggedEvent } from "../fixtures";
import { api, POLL, setupProject, userObject, userToken, type Credential } from "../helpers";
import { LOGGED, OF_PROJECT } from "../log-rows";

const definitions = {
  login: { title: "Login", reward: { default: 5 } },
  card: { title: "Card", reward: { default: 2 }, loyaltyEventType: "CARD_ASSIGNMENT" },
  purchase: {
    title: "Purchase",
    type: "TRANSACTION",
    rewardValueField: "amount",
    reward: { default: 1 },
    loyaltyEventType: "TRANSACTION_ASSESSMENT",
    conditions: { type: "AND", conditions: [{ field: "amount", operator: "greater_than", value: 0 }] },
  },
};

type Page = { status: number; items: LoyaltyEvent[]; total: number; next: string | null; text: string };

async function ledger(auth: Credential, query: string): Promise<Page> {
  const res = await api<LoyaltyEvent[]>("GET", `/v1/loyalty-events?${query}`, { auth });
  const next = /<[^>]*[?&](cursor=[\w-]+)[^>]*>; rel="next"/.exec(res.headers.get("link") ?? "")?.[1] ?? null;
  return { status: res.status, items: res.json, total: Number(res.headers.get("x-total-count")), next, text: res.text };
}

const accountOf = async (admin: Credential, userId: string) => (await api<UserBody>("GET", `/v1/admin/users/${userId}`, { auth: admin })).json.accountId;

/** Waits until D1 holds `n` events of the project, then deletes them all: what is answered after that is the objects'. */
async function forgetInD1(projectKey: string, n: number) {
  const count = async () => (await env.DB.prepare(`SELECT COUNT(*) AS n FROM event_log WHERE ${OF_PROJECT}`).bind(projectKey).first<{ n: number }>())!.n;
  await expect.poll(count, { timeout: 60_000, interval: 200 }).toBe(n);
  await env.DB.prepare(`DELETE FROM event_log WHERE ${OF_PROJECT}`).bind(projectKey).run();
  await env.DB.prepare("DELETE FROM ledger_counts WHERE project_key = ?").bind(projectKey).run();
}

describe("the user's ledger in the user's object", () => {
  it("numbers entries accountId × 2^24 + n in the object, and D1 gets the same ids", async () => {
    const { admin, projectId } = await setupProject({ definitions, users: { alice: [] } });
    const challenge = await api("PUT", "/v1/admin/challenges/buyer", {
      auth: admin,
      body: { title: "Buyer", eventIds: ["purchase"], metric: "count", target: 2, period: "week", rewardPoints: 50 },
    });
    expect(challenge.status, challenge.text).toBe(201);
    const account = await accountOf(admin, "alice");
    for (const amount of [10, 20]) {
      const res = await api("POST", "/v1/event", { auth: admin, body: { eventId: "purchase", userId: "alice", metadata: { amount } } });
      expect(res.status, res.text).toBe(200);
    }
    // Two purchases and the challenge's bonus, in the order they were logged.
    const own = await ledger(admin, `accountid=${account}&sort=id,asc`);
    expect(own.items.map((i) => i.id)).toEqual([1, 2, 3].map((n) => account * LEDGER_ID_SPAN + n));
    expect(own.items.map((i) => i.reward?.rewardAmount)).toEqual([10, 20, 50]);
    // The consumer writes the object's ids to D1: the listing across accounts shows the same ids.
    await expect.poll(async () => (await ledger(admin, "sort=id,asc")).items.map((i) => i.id), POLL).toEqual(own.items.map((i) => i.id));
    const d1 = await env.DB.prepare(`SELECT ledger_id AS id FROM event_log WHERE ${OF_PROJECT} ORDER BY id`).bind(projectId).all<{ id: number }>();
    expect(d1.results.map((r) => r.id)).toEqual(own.items.map((i) => i.id));
  });

  it("answers an account's pages, items and adjustments from the object, whatever D1 holds", async () => {
    const { admin, projectId } = await setupProject({ definitions, users: { alice: [], bob: [] } });
    const [alice, bob] = [await accountOf(admin, "alice"), await accountOf(admin, "bob")];
    const events = [
      { eventId: "purchase", userId: "alice", metadata: { amount: 40 }, timestamp: "2026-11-10T09:00:00.000Z" },
      { eventId: "login", userId: "alice", metadata: {}, timestamp: "2026-11-10T12:00:00.000Z" },
      { eventId: "card", userId: "bob", metadata: {}, timestamp: "2026-11-11T08:00:00.000Z" },
      { eventId: "purchase", userId: "alice", metadata: { amount: 7 }, timestamp: "2026-11-12T08:00:00.000Z" },
    ];
    expect((await api("POST", "/v1/events/batch", { auth: admin, body: { events } })).status).toBe(200);
    await forgetInD1(projectId, 4);

    const page = await ledger(admin, `accountid=${alice}&sort=timestamp,asc`);
    expect([page.status, page.total]).toEqual([200, 3]);
    expect(page.items.map((i) => [i.loyaltyAccountId, i.timestamp, i.eventType])).toEqual([
      [alice, "2026-11-10T09:00:00.000Z", "TRANSACTION_ASSESSMENT"],
      [alice, "2026-11-10T12:00:00.000Z", "CUSTOMER_CARD_DISPLAYED"],
      [alice, "2026-11-12T08:00:00.000Z", "TRANSACTION_ASSESSMENT"],
    ]);
    expect((await ledger(admin, `accountid=${alice}&eventtype=TRANSACTION_ASSESSMENT&timestampto=2026-11-11T00:00:00Z`)).items.map((i) => i.id)).toEqual([
      page.items[0]!.id,
    ]);
    expect((await ledger(admin, `accountid=${bob}`)).items.map((i) => i.eventType)).toEqual(["CARD_ASSIGNMENT"]);
    const purchase = page.items[0]!;
    expect((await api<LoyaltyEvent>("GET", `/v1/loyalty-events/${purchase.id}`, { auth: admin })).json).toEqual(purchase);

    // An adjustment: the object's ledger has it in the same transaction as the balance.
    const refund = await api<LoyaltyEvent>("POST", `/v1/loyalty-events/${purchase.id}/adjustments`, {
      auth: admin,
      body: { rewardAmount: 15, reason: "return" },
    });
    expect(refund.status, refund.text).toBe(200);
    const item = (await api<LoyaltyEvent>("GET", `/v1/loyalty-events/${purchase.id}`, { auth: admin })).json;
    expect(item).toEqual(refund.json);
    expect(item.reward).toMatchObject({ rewardAmount: 15, previousRewardAmount: 40 });
    expect(item.updatedAt > item.createdAt).toBe(true);
    const stored = await runInDurableObject(userObject(projectId, "alice"), (_instance, state) =>
      state.storage.sql.exec("SELECT adjusted_amount, previous_amount FROM ledger WHERE id = ?", purchase.id).toArray(),
    );
    expect(stored).toEqual([{ adjusted_amount: 15, previous_amount: 40 }]);
    expect((await ledger(admin, `accountid=${alice}&sort=timestamp,asc`)).items[0]).toEqual(item);
    // Another project's admin finds nothing by that id, and the project has no such id.
    const stranger = await setupProject();
    expect((await api("GET", `/v1/loyalty-events/${purchase.id}`, { auth: stranger.admin })).status).toBe(404);
    expect((await api("GET", `/v1/loyalty-events/${purchase.id + 100}`, { auth: admin })).status).toBe(404);
    expect((await api("GET", `/v1/loyalty-events/${(bob + 999_999) * LEDGER_ID_SPAN + 1}`, { auth: admin })).status).toBe(404);
  });

  it("gives a user token its own ledger from its object: the default, its account, its items; 403 and 404 for others", async () => {
    const { admin, projectId } = await setupProject({ definitions, users: { alice: [], bob: [] } });
    const bob = await accountOf(admin, "bob");
    for (const [userId, eventId] of [
      ["alice", "login"],
      ["alice", "card"],
      ["bob", "login"],
    ] as const) {
      expect((await api("POST", "/v1/event", { auth: admin, body: { eventId, userId } })).status).toBe(200);
    }
    await forgetInD1(projectId, 3);
    const token = { bearer: await userToken(projectId, "alice") };
    const own = await ledger(token, "");
    expect([own.status, own.total, own.items.map((i) => i.eventType)]).toEqual([200, 2, ["CARD_ASSIGNMENT", "CUSTOMER_CARD_DISPLAYED"]]);
    expect((await ledger(token, `accountid=${own.items[0]!.loyaltyAccountId}&eventtype=CARD_ASSIGNMENT`)).items).toEqual([own.items[0]]);
    expect((await api<LoyaltyEvent>("GET", `/v1/loyalty-events/${own.items[1]!.id}`, { auth: token })).json).toEqual(own.items[1]);
    expect((await ledger(token, `accountid=${bob}`)).status).toBe(403);
    const bobs = (await ledger(admin, `accountid=${bob}`)).items[0]!;
    expect((await api("GET", `/v1/loyalty-events/${bobs.id}`, { auth: token })).status).toBe(404);
    // A user nobody registered has an empty ledger, and its object stores nothing.
    const ghost = { bearer: await userToken(projectId, "ghost") };
    expect(await ledger(ghost, "")).toMatchObject({ status: 200, items: [], total: 0 });
    expect((await ledger(ghost, `accountid=${bob}`)).status).toBe(403);
    const tables = await runInDurableObject(userObject(projectId, "ghost"), (_instance, state) =>
      state.storage.sql.exec("SELECT name FROM sqlite_master").toArray(),
    );
    expect(tables).toEqual([]);
  });

  it("pages 10,000 events of one account 9,000 deep by cursor for what page 0 costs (SQLite rows read)", async () => {
    const { admin, projectId } = await setupProject({ definitions, users: { solo: [] } });
    const account = await accountOf(admin, "solo");
    const start = Date.UTC(2026, 9, 1);
    // 4 events per 15-minute slot (ties), over 26 days.
    const slot = (k: number) => start + k * 15 * 60_000;
    for (let call = 0; call < 10; call++) {
      const events = Array.from({ length: 1000 }, (_, k) => {
        const i = call * 1000 + k;
        // Every 7th a card.
        return { eventId: i % 7 === 0 ? "card" : "login", userId: "solo", metadata: {}, timestamp: new Date(slot(Math.floor(i / 4))).toISOString() };
      });
      const res = await api("POST", "/v1/events/batch", { auth: admin, body: { events } });
      expect(res.status, res.text).toBe(200);
    }
    const stub = userObject(projectId, "solo");
    const read = (query: Partial<LedgerReadQuery> & { sort: LedgerSort }) =>
      stub.ledgerPage({ limit: 21, start: { offset: 0 }, ...query }) as Promise<LedgerPageAnswer>;
    const page = async (query: Partial<LedgerReadQuery> & { sort: LedgerSort }) => {
      const answer = await read(query);
      if (answer.kind !== "page") throw new Error(answer.kind);
      return answer;
    };
    const sorts: LedgerSort[] = [
      { field: "timestamp", direction: "desc" },
      { field: "timestamp", direction: "asc" },
      { field: "createdAt", direction: "desc" },
      { field: "id", direction: "asc" },
    ];
    const filters: Array<Partial<LedgerReadQuery>> = [{}, { type: "CARD_ASSIGNMENT" }, { from: slot(1) }, { type: "CUSTOMER_CARD_DISPLAYED", to: slot(1_500) }];
    for (const sort of sorts) {
      for (const filter of filters) {
        const label = `${sort.field},${sort.direction} ${JSON.stringify(filter)}`;
        const near = await page({ ...filter, sort });
        const depth = filter.type === "CARD_ASSIGNMENT" || filter.to !== undefined ? 1_200 : 9_000;
        const byOffset = await page({ ...filter, sort, start: { offset: depth } });
        const last = byOffset.rows[19]!;
        const value = sort.field === "id" ? last.id : Date.parse(sort.field === "timestamp" ? last.occurredAt : last.recordedAt);
        const deep = await page({ ...filter, sort, start: { after: { value, id: last.id } } });
        expect(deep.rows, label).toHaveLength(21);
        expect(deep.rows[0], label).toEqual(byOffset.rows[20]);
        expect(deep.total, label).toBe(near.total);
        // The offset walks its entries; the cursor page reads what the first page reads.
        expect(byOffset.rowsRead, label).toBeGreaterThan(near.rowsRead + 1_000);
        expect(deep.rowsRead, label).toBeLessThanOrEqual(near.rowsRead + 2);
      }
    }
    // Totals: kept per type, and per UTC day (the range crosses midnight twice) plus the ends' partial days.
    const total = async (query: Partial<LedgerReadQuery>) => (await page({ sort: sorts[0]!, ...query })).total;
    expect(await total({})).toBe(10_000);
    expect(await total({ type: "CARD_ASSIGNMENT" })).toBe(1_429);
    expect(await total({ from: slot(1) })).toBe(9_996);
    expect(await total({ type: "CUSTOMER_CARD_DISPLAYED", to: slot(1_500) })).toBe(6_004 - 858);
    expect(await total({ from: slot(1_000) + 1, to: slot(2_000) })).toBe(4_000);
    expect(await total({ from: slot(1_439), to: slot(1_441) - 1 })).toBe(8);
    const counted = await page({ sort: sorts[0]!, from: slot(100) + 1, to: slot(2_400) });
    expect([counted.total, counted.exact]).toEqual([9_200, true]);
    expect(counted.rowsRead).toBeLessThan(600); // 23 whole days' counts and the two partial days' 368 entries, not 9,200

    // Through the API, whatever D1 holds: page 0 and the page after a cursor 9,000 deep, 10,000 in total.
    await forgetInD1(projectId, 10_000);
    const first = await ledger(admin, `accountid=${account}&size=20`);
    expect([first.status, first.items.length, first.total]).toEqual([200, 20, 10_000]);
    const deep = await ledger(admin, `accountid=${account}&size=20&page=449`);
    expect(deep.items.at(-1)!.timestamp).toBe(new Date(slot((10_000 - 9_000) / 4)).toISOString());
    const after = await ledger(admin, `accountid=${account}&size=20&${deep.next!}`);
    expect([after.status, after.items.length, after.total]).toEqual([200, 20, 10_000]);
    expect(after.items[0]!.timestamp <= deep.items.at(-1)!.timestamp).toBe(true);
  }, 120_000);

  it("stores about 280 bytes per entry with short metadata (the README's figure)", async () => {
    const { projectId } = await setupProject({ definitions, users: { sized: [] } });
    const stub = userObject(projectId, "sized");
    await stub.snapshot();
    const perEntry = await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql;
      const before = sql.databaseSize;
      const n = 4_000;
      state.storage.transactionSync(() => {
        for (let i = 0; i < n; i++) {
          const purchase = i % 2 === 1;
          appendToLedger(
            sql,
            loggedEvent(projectId, {
              accountId: 4_242,
              eventId: purchase ? "purchase" : "login",
              loyaltyEventType: purchase ? "TRANSACTION_ASSESSMENT" : null,
              metadata: purchase ? { amount: 12.5, currency: "EUR" } : {},
              occurredAt: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString(),
              recordedAt: new Date(Date.UTC(2026, 0, 1) + i * 60_000 + 5).toISOString(),
              customerMessage: i % 4 === 1 ? "You earned 12 points for Purchase; balance 120" : null,
            }),
          );
        }
      });
      return (sql.databaseSize - before) / n;
    });
    expect(perEntry).toBeGreaterThan(150);
    expect(perEntry).toBeLessThan(350);
  });
});

/** The schema objects had before the ledger: every user-object migration before it. */
const BEFORE_LEDGER = USER_STATE_MIGRATIONS.findIndex((migration) => migration.includes("CREATE TABLE ledger ("));

/**
 * A registered user whose object was created with the schema before the ledger (its D1 row written directly, so
 * registering creates no object with today's schema), with the `acknowledged` messages that object left.
 */
async function userFromBefore(projectKey: string, userId: string, acknowledged: (user: Owner) => object[] = () => []) {
  const programId = (await env.DB.prepare("SELECT id FROM projects WHERE key = ?").bind(projectKey).first<{ id: number }>())!.id;
  const { accountId } = (await env.DB.prepare(
    "INSERT INTO users (project_key, user_id, usergroups, attributes, updated_at) VALUES (?, ?, '[]', '{}', ?) RETURNING account_id AS accountId",
  )
    .bind(projectKey, userId, new Date().toISOString())
    .first<{ accountId: number }>())!;
  const user: Owner = { userId, accountId, programId };
  const stub = userObject(projectKey, userId);
  await runInDurableObject(stub, (_instance, state) => {
    const sql = state.storage.sql;
    expect(schemaVersion(sql)).toBe(0);
    for (let version = 1; version <= BEFORE_LEDGER; version++) {
      sql.exec(USER_STATE_MIGRATIONS[version - 1]!);
      sql.exec("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)", version, Date.now());
    }
    sql.exec(
      "INSERT INTO profile (id, project_key, program_id, user_id, account_id, usergroups, balance, registration_version) VALUES (1, ?, ?, ?, ?, '[]', 0, 1)",
      projectKey,
      programId,
      userId,
      accountId,
    );
    for (const body of acknowledged(user)) {
      const uid = "adjustmentUid" in body ? body.adjustmentUid : (body as { eventUid: string }).eventUid;
      sql.exec("INSERT INTO acknowledged (acked_at, event_uid, body) VALUES (?, ?, ?)", Date.now(), uid, JSON.stringify(body));
    }
  });
  await evictDurableObject(stub);
  return { stub, ...user };
}

type Owner = { userId: string; accountId: number; programId: number };

/** `n` events of a user as the consumer got them before the objects assigned ids (D1 numbers them). */
const legacyEvents = (projectKey: string, user: Owner, n: number): LoggedEventMessage[] =>
  Array.from({ length: n }, (_, i) =>
    loggedEvent(projectKey, {
      userId: user.userId,
      accountId: user.accountId,
      programId: user.programId,
      loyaltyEventType: i % 5 === 0 ? "CARD_ASSIGNMENT" : null,
      occurredAt: new Date(Date.UTC(2026, 6, 1) + i * 3_600_000).toISOString(),
      recordedAt: new Date(Date.UTC(2026, 6, 1) + i * 3_600_000 + 1_000).toISOString(),
      points: 1 + (i % 3),
    }),
  );

describe("objects from before the ledger", () => {
  it("copy their user's older entries from D1 on first use, in pages, with the ids D1 gave them, then answer alone", async () => {
    const { admin, projectId } = await setupProject({ definitions, users: {} });
    // Pre-ledger messages the object acknowledged that D1 has not got yet: an event on its way, and an adjustment.
    let older: LoggedEventMessage[] = [];
    let inFlight!: LoggedEventMessage;
    const adjustmentOf = (event: LoggedEventMessage, seq: number, newAmount: number, reason: string) => ({
      kind: "adjustment",
      adjustmentUid: crypto.randomUUID(),
      projectKey: projectId,
      userId: "veteran",
      eventUid: event.eventUid,
      seq,
      previousAmount: event.rewardAmount,
      newAmount,
      pointsDelta: newAmount - event.rewardAmount,
      reason,
      adjustedAt: "2026-11-21T00:00:00.000Z",
    });
    const user = await userFromBefore(projectId, "veteran", (owner) => {
      older = legacyEvents(projectId, owner, 600);
      inFlight = loggedEvent(projectId, { ...owner, occurredAt: "2026-11-20T10:00:00.000Z", recordedAt: "2026-11-20T10:00:00.000Z" });
      return [inFlight, adjustmentOf(older[3]!, 900, 0, "refund on its way")];
    });
    const { stub } = user;
    // D1 has the older events (numbered by D1, below 2^24), one adjusted there already.
    for (let i = 0; i < older.length; i += 300) expect((await deliver(older.slice(i, i + 300))).retryMessages).toEqual([]);
    expect((await deliver([adjustmentOf(older[1]!, 800, 1, "in D1")])).retryMessages).toEqual([]);
    const d1Ids = new Map(
      (
        await env.DB.prepare(`SELECT event_uid AS uid, ledger_id AS id FROM ${LOGGED} WHERE project_key = ?`).bind(projectId).all<{ uid: string; id: number }>()
      ).results.map((r) => [r.uid, r.id]),
    );
    expect([...d1Ids.values()].every((id) => id < LEDGER_ID_SPAN)).toBe(true);

    // Bounded pages: one page of 500 a call, and not complete while the acknowledged event is not in D1.
    expect(await stub.fillLedger(1)).toEqual({ done: false, copied: false, rows: 500 });
    expect(await stub.fillLedger(1)).toEqual({ done: false, copied: true, rows: 100 });
    // Meanwhile the API answers from D1, as before.
    const meanwhile = await ledger(admin, `accountid=${user.accountId}&sort=id,asc&size=5`);
    expect([meanwhile.status, meanwhile.total]).toEqual([200, 600]);

    // The event on its way arrives; the next use completes the ledger, with the adjustment D1 had not applied.
    expect((await deliver([inFlight])).retryMessages).toEqual([]);
    expect(await stub.fillLedger(1)).toEqual({ done: true, copied: true, rows: 1 });
    // From here on the object answers alone: D1's log may forget the account.
    await env.DB.prepare(`DELETE FROM event_log WHERE ${OF_PROJECT}`).bind(projectId).run();
    await env.DB.prepare("DELETE FROM ledger_counts WHERE project_key = ?").bind(projectId).run();
    const all = await ledger(admin, `accountid=${user.accountId}&sort=id,asc&size=100`);
    expect([all.status, all.total]).toEqual([200, 601]);
    const walked = [...all.items];
    for (let page = all; page.next !== null; ) {
      page = await ledger(admin, `accountid=${user.accountId}&sort=id,asc&size=100&${page.next}`);
      walked.push(...page.items);
    }
    expect(walked).toHaveLength(601);
    // Every entry kept the id D1 gave it.
    expect(walked.slice(0, 600).map((i) => i.id)).toEqual(older.map((e) => d1Ids.get(e.eventUid)));
    expect(walked[600]!.timestamp).toBe(inFlight.occurredAt);
    expect(walked[1]!.reward).toMatchObject({ rewardAmount: 1, previousRewardAmount: older[1]!.rewardAmount });
    expect(walked[3]!.reward).toMatchObject({ rewardAmount: 0, previousRewardAmount: older[3]!.rewardAmount });
    expect((await ledger(admin, `accountid=${user.accountId}&eventtype=CARD_ASSIGNMENT`)).total).toBe(120);
    // Ids from before stay found by id after D1's log forgot the row (ledger_legacy_ids names the account).
    expect((await api<LoyaltyEvent>("GET", `/v1/loyalty-events/${walked[3]!.id}`, { auth: admin })).json).toEqual(walked[3]);

    // A new log: the object numbers it after the ones from before, in the user's own range.
    const logged = await api("POST", "/v1/event", { auth: admin, body: { eventId: "login", userId: "veteran" } });
    expect(logged.status, logged.text).toBe(200);
    const newest = (await ledger(admin, `accountid=${user.accountId}&sort=id,desc&size=1`)).items[0]!;
    expect(newest.id).toBe(user.accountId * LEDGER_ID_SPAN + 1);
    expect((await ledger(admin, `accountid=${user.accountId}`)).total).toBe(602);
    expect(await stub.fillLedger()).toEqual({ done: true, copied: true, rows: 0 });
  });

  it("are all filled by the cron's walk, which then reports the copy complete", async () => {
    const { projectId } = await setupProject({ definitions, users: {} });
    const users = [await userFromBefore(projectId, "early"), await userFromBefore(projectId, "late")];
    for (const [i, user] of users.entries()) expect((await deliver(legacyEvents(projectId, user, 30 + i))).retryMessages).toEqual([]);
    await env.ARCHIVE.delete(LEDGER_FILL_KEY);
    expect(await legacyLedgersCopied(env.ARCHIVE)).toBe(false);
    for (let run = 0; run < 20 && !(await fillNextLedgers(env, { accounts: 50 })).finished; run++);
    expect(await legacyLedgersCopied(env.ARCHIVE)).toBe(true);
    for (const [i, user] of users.entries()) {
      const state = await runInDurableObject(user.stub, (_instance, s) => ({
        done: s.storage.sql.exec<{ done: number }>("SELECT done FROM ledger_fill").one().done,
        entries: s.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM ledger").one().n,
      }));
      expect(state).toEqual({ done: 1, entries: 30 + i });
    }
    // Finished: a run reads its place and does nothing else.
    expect(await fillNextLedgers(env)).toEqual({ accounts: 0, rows: 0, failed: 0, finished: true });
  });
});
