// POST /v1/admin/users/batch (issue 22, README "Member import"): members registered in bulk, one result per item,
// and opening balances credited once each: in the ledger, the points history, the lots, the points stats (never
// the event stats), exact under concurrent imports and logs.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { LoyaltyEvent } from "../../src/domain/ledger";
import type { ErrorEnvelope } from "../../src/http/errors";
import type { MemberImportResponseBody, UserBody } from "../../src/routes/admin-users";
import type { PointsHistoryBody, PointsStatsBody, RedemptionBody } from "../../src/routes/points";
import type { GlobalStatsBody } from "../../src/routes/stats";
import type { PointsProfileBody } from "../../src/routes/users";
import { userStateName, type UserStateRpc } from "../../src/durable/stub";
import { api, apiKeyWith, loginDefinition, POLL, setupProject, unreachableUserObjects, userToken, type Credential } from "../helpers";

type Imported = Extract<MemberImportResponseBody["results"][number], { data: unknown }>;

const importUsers = (auth: Credential, users: unknown[], options: { env?: Partial<Env> } = {}) =>
  api<MemberImportResponseBody & ErrorEnvelope>("POST", "/v1/admin/users/batch", { auth, body: { users }, ...options });

const imported = (result: MemberImportResponseBody["results"][number] | undefined): Imported => {
  if (!result || !("data" in result)) throw new Error(`not imported: ${JSON.stringify(result)}`);
  return result;
};

const userOf = async (auth: Credential, userId: string) => (await api<UserBody>("GET", `/v1/admin/users/${userId}`, { auth })).json;

describe("POST /v1/admin/users/batch", () => {
  it("imports 1,000 new members in one call without creating their objects; each is created, with its opening balance, on first use", async () => {
    const { admin, projectId } = await setupProject({ users: {} });
    const members = Array.from({ length: 1000 }, (_, i) => ({
      userId: `m-${i}`,
      usergroups: i % 2 === 0 ? ["gold"] : [],
      attributes: { email: `m-${i}@example.com`, since: "2019-04-01", source: "legacy-crm" },
      openingBalance: i % 10 === 0 ? 0 : i,
    }));
    const started = performance.now();
    const res = await importUsers(admin, members);
    console.info(`member import: 1,000 new members in ${Math.round(performance.now() - started)} ms (informational)`);
    expect(res.status).toBe(200);
    expect(res.json.results).toHaveLength(1000);
    for (const [i, result] of res.json.results.entries()) {
      expect(result).toMatchObject({ statusCode: 201, message: "Registered", data: { userId: `m-${i}`, balance: i % 10 === 0 ? 0 : i } });
    }
    const accountIds = res.json.results.map((r) => imported(r).data.accountId);
    expect(new Set(accountIds).size).toBe(1000);
    expect(imported(res.json.results[10]).data.openingBalance).toBeNull();
    expect(imported(res.json.results[7]).data.openingBalance).toMatchObject({ points: 7, replayed: false });

    const rows = await env.DB.prepare("SELECT COUNT(*) AS n, SUM(object_version = registration_version) AS confirmed FROM users WHERE project_key = ?")
      .bind(projectId)
      .first<{ n: number; confirmed: number }>();
    expect(rows).toEqual({ n: 1000, confirmed: 1000 });
    // No object yet: the first read creates it from D1's registration and credits the opening balance.
    const stub = (userId: string) => env.USER_STATE.get(env.USER_STATE.idFromName(userStateName(projectId, userId))) as unknown as UserStateRpc;
    expect(await stub("m-499").snapshot()).toMatchObject({ registered: false, balance: 0 });
    for (const i of [0, 1, 499, 999]) {
      expect(await userOf(admin, `m-${i}`)).toMatchObject({
        accountId: accountIds[i],
        usergroups: i % 2 === 0 ? ["gold"] : [],
        attributes: { email: `m-${i}@example.com` },
        balance: i % 10 === 0 ? 0 : i,
      });
    }
    // A thousand new objects take seconds in the test runtime (each is created and migrated); the bench measures pace.
  }, 120_000);

  it("answers each item on its own: bad fields and repeated userIds are item errors naming the field, the rest are imported", async () => {
    const { admin } = await setupProject({ users: {} });
    const res = await importUsers(admin, [
      { userId: "ok-1", openingBalance: 10 },
      { userId: "" },
      { userId: "x".repeat(256) },
      { userId: "ok-1", openingBalance: 10 },
      { userId: "bad-points", openingBalance: -1 },
      { userId: "bad-points-2", openingBalance: 1.5 },
      { userId: "bad-groups", usergroups: "gold" },
      { userId: "extra", nickname: "x" },
      "not an object",
      { userId: "ok-2", usergroups: ["silver"] },
    ]);
    expect(res.status).toBe(200);
    const [first, empty, long, repeated, negative, fraction, groups, extra, notObject, last] = res.json.results as Array<ErrorEnvelope & Partial<Imported>>;
    expect(first).toMatchObject({ statusCode: 201, data: { userId: "ok-1", balance: 10 } });
    expect(empty).toMatchObject({ statusCode: 400, errors: [{ path: "users.1.userId" }] });
    expect(long).toMatchObject({ statusCode: 400, errors: [{ path: "users.2.userId" }] });
    expect(repeated).toMatchObject({ statusCode: 400, errors: [{ path: "users.3.userId", message: expect.stringContaining("users.0") }] });
    expect(negative).toMatchObject({ statusCode: 400, errors: [{ path: "users.4.openingBalance" }] });
    expect(fraction).toMatchObject({ statusCode: 400, errors: [{ path: "users.5.openingBalance" }] });
    expect(groups).toMatchObject({ statusCode: 400, errors: [{ path: "users.6.usergroups" }] });
    expect(extra?.statusCode).toBe(400);
    expect(notObject?.statusCode).toBe(400);
    expect(last).toMatchObject({ statusCode: 201, data: { userId: "ok-2", usergroups: ["silver"], openingBalance: null } });
    // The repeated item did nothing: one credit of 10.
    expect((await userOf(admin, "ok-1")).balance).toBe(10);
    expect((await api("GET", "/v1/admin/users/bad-points", { auth: admin })).status).toBe(404);
  });

  it("refuses a whole call of no members or more than 1,000 with 400 naming users", async () => {
    const { admin } = await setupProject({ users: {} });
    const tooMany = await importUsers(
      admin,
      Array.from({ length: 1001 }, (_, i) => ({ userId: `u-${i}` })),
    );
    expect(tooMany.status).toBe(400);
    expect(tooMany.json.errors?.[0]?.path).toBe("users");
    const none = await importUsers(admin, []);
    expect(none.status).toBe(400);
    expect(none.json.errors?.[0]?.path).toBe("users");
  });

  it("is idempotent, and credits an opening balance once: the same amount is replayed, another is a 409 naming openingBalance", async () => {
    const { admin } = await setupProject({ users: {} });
    const file = [
      { userId: "ann", usergroups: ["gold"], attributes: { tier: 2 }, openingBalance: 500 },
      { userId: "ben", openingBalance: 40 },
    ];
    const first = await importUsers(admin, file);
    const [ann] = first.json.results.map(imported);
    expect(ann!.data.openingBalance).toMatchObject({ points: 500, replayed: false });

    const again = await importUsers(admin, file);
    const [annAgain, benAgain] = again.json.results.map(imported);
    expect(annAgain).toMatchObject({ statusCode: 200, message: "Updated", data: { accountId: ann!.data.accountId, balance: 500 } });
    expect(annAgain!.data.openingBalance).toEqual({ ...ann!.data.openingBalance, replayed: true });
    expect(benAgain!.data.balance).toBe(40);
    expect(await userOf(admin, "ann")).toMatchObject({ usergroups: ["gold"], attributes: { tier: 2 }, balance: 500 });

    // Another amount: the item's error names the field; the registration is still updated, the balance is not.
    const other = await importUsers(admin, [{ userId: "ann", usergroups: ["silver"], openingBalance: 600 }]);
    expect(other.json.results[0]).toMatchObject({
      statusCode: 409,
      errors: [{ path: "users.0.openingBalance", message: expect.stringContaining("must be 500") }],
    });
    expect(await userOf(admin, "ann")).toMatchObject({ usergroups: ["silver"], attributes: { tier: 2 }, balance: 500 });
    // Left out (or 0), nothing is asked of the opening balance.
    const without = await importUsers(admin, [{ userId: "ann" }, { userId: "ben", openingBalance: 0 }]);
    expect(without.json.results.map((r) => imported(r).data.balance)).toEqual([500, 40]);
  });

  it("shows the opening balance in the ledger and the points history, as a lot that can be redeemed, but never as an adjustable reward", async () => {
    const { admin } = await setupProject({ users: {} });
    const [dora] = (await importUsers(admin, [{ userId: "dora", openingBalance: 250 }])).json.results.map(imported);
    const { accountId, openingBalance } = dora!.data;

    const ledger = await api<LoyaltyEvent[]>("GET", `/v1/loyalty-events?accountid=${accountId}`, { auth: admin, headers: { accept: "*/*" } });
    expect(ledger.status).toBe(200);
    expect(ledger.json).toHaveLength(1);
    expect(ledger.json[0]).toMatchObject({
      id: openingBalance!.loyaltyEventId,
      loyaltyAccountId: accountId,
      eventType: "CARD_ASSIGNMENT",
      eventDetails: { openingBalance: 250 },
      reward: { rewardType: "LOYALTY_POINTS", rewardAmount: 250, ruleId: null },
    });
    const entry = await api<LoyaltyEvent>("GET", `/v1/loyalty-events/${openingBalance!.loyaltyEventId}`, { auth: admin });
    expect(entry.json).toMatchObject({ id: openingBalance!.loyaltyEventId, eventType: "CARD_ASSIGNMENT" });
    const adjust = await api("POST", `/v1/loyalty-events/${openingBalance!.loyaltyEventId}/adjustments`, {
      auth: admin,
      body: { rewardAmount: 0, reason: "undo" },
    });
    expect(adjust.status).toBe(422);

    const history = await api<PointsHistoryBody>("GET", "/v1/users/dora/points-history", { auth: admin });
    expect(history.json.entries).toEqual([
      expect.objectContaining({ type: "earn", points: 250, balanceAfter: 250, reference: String(openingBalance!.loyaltyEventId), reason: "opening balance" }),
    ]);
    const redeemed = await api<RedemptionBody>("POST", "/v1/users/dora/redemptions", {
      auth: admin,
      body: { points: 200, reason: "voucher" },
      headers: { "idempotency-key": "r-1" },
    });
    expect(redeemed.status).toBe(201);
    expect(redeemed.json.balance).toBe(50);
    expect((await userOf(admin, "dora")).balance).toBe(50);
  });

  it("creates a new member's object on its first use, whatever it is (a log, a redemption, a registration), crediting the opening balance first", async () => {
    const { admin, projectId } = await setupProject({ definitions: { daily_login: loginDefinition }, users: {} });
    await importUsers(admin, [
      { userId: "kim", openingBalance: 100 },
      { userId: "lou", openingBalance: 80 },
      { userId: "max", openingBalance: 60 },
    ]);
    const logged = await api<{ data: { balance: number } }>("POST", "/v1/event", { auth: admin, body: { eventId: "daily_login", userId: "kim" } });
    expect(logged.status).toBe(200);
    expect(logged.json.data.balance).toBe(105);
    const redeemed = await api<RedemptionBody>("POST", "/v1/users/lou/redemptions", {
      auth: admin,
      body: { points: 80, reason: "voucher" },
      headers: { "idempotency-key": "r-lou" },
    });
    expect(redeemed.status, JSON.stringify(redeemed.json)).toBe(201);
    expect(redeemed.json.balance).toBe(0);
    expect((await api<UserBody>("PUT", "/v1/admin/users/max", { auth: admin, body: { usergroups: ["gold"] } })).json.balance).toBe(60);
    // Nothing for the scheduled repair: every registration is confirmed, created or not.
    const pending = await env.DB.prepare("SELECT COUNT(*) AS n FROM users WHERE project_key = ? AND object_version < registration_version")
      .bind(projectId)
      .first<{ n: number }>();
    expect(pending!.n).toBe(0);
    const history = await api<PointsHistoryBody>("GET", "/v1/users/kim/points-history", { auth: admin });
    expect(history.json.entries.map((e) => [e.type, e.points, e.balanceAfter])).toEqual([
      ["earn", 5, 105],
      ["earn", 100, 100],
    ]);
  });

  it("makes the opening balance a lot that expires under the project's expiry policy", async () => {
    const { admin } = await setupProject({ users: {} });
    expect((await api("PUT", "/v1/admin/project/settings", { auth: admin, body: { pointsExpiry: { mode: "after_days", days: 30 } } })).status).toBe(200);
    await importUsers(admin, [{ userId: "kim", openingBalance: 120 }]);
    const profile = await api<PointsProfileBody>("GET", "/v1/users/kim", { auth: admin });
    expect(profile.json.balance).toBe(120);
    expect(profile.json.expiring).toEqual([{ points: 120, expiresAt: expect.any(String) }]);
    const history = await api<PointsHistoryBody>("GET", "/v1/users/kim/points-history", { auth: admin });
    expect(history.json.entries[0]?.details).toMatchObject({ expiresAt: profile.json.expiring[0]!.expiresAt });
  });

  it("counts opening balances in /v1/stats/points (opening), never as events in /v1/stats/event", async () => {
    const { admin } = await setupProject({ definitions: { daily_login: loginDefinition }, users: {} });
    await importUsers(admin, [
      { userId: "eve", openingBalance: 300 },
      { userId: "finn", openingBalance: 200 },
    ]);
    expect((await api("POST", "/v1/event", { auth: admin, body: { eventId: "daily_login", userId: "eve" } })).status).toBe(200);
    await expect
      .poll(async () => (await api<PointsStatsBody>("GET", "/v1/stats/points?period=7d", { auth: admin })).json.totals, POLL)
      .toEqual({ earned: 5, redeemed: 0, reversed: 0, expired: 0, opening: 500 });
    const events = await api<GlobalStatsBody>("GET", "/v1/stats/event?period=7d", { auth: admin });
    expect(events.json.data).toMatchObject({ totalEvents: 1, uniqueUsers: 1, totalPoints: 5 });
    expect(Object.keys(events.json.data.eventBreakdown)).toEqual(["daily_login"]);
    expect((await userOf(admin, "eve")).balance).toBe(305);
  });

  it("never credits twice under concurrent imports of a member racing its logs", async () => {
    const { admin } = await setupProject({ definitions: { daily_login: { ...loginDefinition, limit: 100, limitPeriod: "day" } }, users: {} });
    const calls = await Promise.all([
      ...Array.from({ length: 8 }, () => importUsers(admin, [{ userId: "gus", openingBalance: 1000 }])),
      ...Array.from({ length: 8 }, () => api("POST", "/v1/event", { auth: admin, body: { eventId: "daily_login", userId: "gus" } })),
    ]);
    const imports = calls.slice(0, 8) as Array<Awaited<ReturnType<typeof importUsers>>>;
    const credited = imports.map((r) => imported(r.json.results[0]).data.openingBalance!).filter((o) => !o.replayed);
    expect(credited).toHaveLength(1);
    const logged = calls.slice(8).filter((r) => r.status === 200).length;
    // Logs before the member's registration reached its object find no user (404); every other one counts.
    expect((await userOf(admin, "gus")).balance).toBe(1000 + 5 * logged);
  });

  it("answers an item whose object is out of reach with a retryable 503; the others are imported", async () => {
    // hal exists (PUT): an import calls its object. ida is new: her object waits for her first use.
    const { admin, projectId } = await setupProject({ users: { hal: [] } });
    const unreachable = env.USER_STATE.idFromName(userStateName(projectId, "hal")).toString();
    const res = await importUsers(
      admin,
      [
        { userId: "hal", openingBalance: 70 },
        { userId: "ida", openingBalance: 30 },
      ],
      { env: { USER_STATE: unreachableUserObjects((id) => id.toString() === unreachable) } },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("retry-after")).toBe("1");
    expect(res.json.results[0]).toMatchObject({ statusCode: 503 });
    expect(imported(res.json.results[1]).data.balance).toBe(30);
    // D1 keeps hal's registration, unconfirmed, for the scheduled repair; the retry credits the opening balance
    // (replayed: the first import named it, and D1 kept it).
    const hal = await env.DB.prepare("SELECT object_version < registration_version AS pending FROM users WHERE project_key = ? AND user_id = 'hal'")
      .bind(projectId)
      .first<{ pending: number }>();
    expect(hal?.pending).toBe(1);
    const retried = await importUsers(admin, [{ userId: "hal", openingBalance: 70 }]);
    expect(imported(retried.json.results[0]).data).toMatchObject({ balance: 70, openingBalance: { points: 70, replayed: true } });
  });

  it("needs users:write: a key without it and a user token get 403; another project's members are untouched", async () => {
    const other = await setupProject({ users: { jo: ["gold"] } });
    const { admin, projectId } = await setupProject({ users: {} });
    const reader = await apiKeyWith(admin, ["users:read"]);
    expect((await importUsers({ apiKey: reader.apiKey }, [{ userId: "jo" }])).status).toBe(403);
    expect((await importUsers({ bearer: await userToken(projectId, "jo") }, [{ userId: "jo" }])).status).toBe(403);
    const writer = await apiKeyWith(admin, ["users:write"]);
    const res = await importUsers({ apiKey: writer.apiKey }, [{ userId: "jo", usergroups: ["silver"], openingBalance: 90 }]);
    expect(imported(res.json.results[0]).data).toMatchObject({ usergroups: ["silver"], balance: 90 });
    const jo = await userOf(other.admin, "jo");
    expect(jo).toMatchObject({ usergroups: ["gold"], balance: 0 });
    expect(jo.accountId).not.toBe(imported(res.json.results[0]).data.accountId);
  });
});
