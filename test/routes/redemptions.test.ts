import { describe, expect, it } from "vitest";
import type { ErrorEnvelope } from "../../src/http/errors";
import type { PointsHistoryBody, RedemptionBody, ReversalBody } from "../../src/routes/points";
import type { PointsProfileBody } from "../../src/routes/users";
import { api, apiKeyWith, setupProject, userToken, type Credential } from "../helpers";

const earn = { title: "Earn", type: "STANDARD", reward: { default: 100 } };

/** A project where alice has `balance` points (100 per log). */
async function withBalance(balance: number) {
  const project = await setupProject({ definitions: { earn }, users: { alice: [], bob: [] } });
  for (let i = 0; i < balance / 100; i++) {
    const res = await api("POST", "/v1/event", { auth: project.admin, body: { eventId: "earn", userId: "alice" } });
    expect(res.status).toBe(200);
  }
  return project;
}

const redeem = (auth: Credential, body: unknown, key: string | null = crypto.randomUUID(), userId = "alice") =>
  api<RedemptionBody & ErrorEnvelope>("POST", `/v1/users/${userId}/redemptions`, { auth, body, headers: key === null ? {} : { "idempotency-key": key } });

const balanceOf = async (auth: Credential, userId = "alice") => (await api<PointsProfileBody>("GET", `/v1/users/${userId}`, { auth })).json.balance;

describe("POST /v1/users/{userId}/redemptions", () => {
  it.each([
    [{ points: 0, reason: "r" }, "points"],
    [{ points: 1.5, reason: "r" }, "points"],
    [{ points: 1_000_000_000_001, reason: "r" }, "points"],
    [{ points: 1 }, "reason"],
    [{ points: 1, reason: "" }, "reason"],
    [{ points: 1, reason: "x".repeat(501) }, "reason"],
    [{ points: 1, reason: "r", reference: "x".repeat(201) }, "reference"],
    [{ points: 1, reason: "r", metadata: [1] }, "metadata"],
    [{ points: 1, reason: "r", extra: true }, "(root)"],
  ])("refuses %j with 400 naming %s", async (body, path) => {
    const { admin } = await setupProject();
    const res = await redeem(admin, body);
    expect(res.status).toBe(400);
    expect(res.json.errors?.[0]?.path).toBe(path);
  });

  it("needs an Idempotency-Key of 1-255 characters, and bounds metadata to 32 KiB (413)", async () => {
    const { admin } = await setupProject();
    const missing = await redeem(admin, { points: 1, reason: "r" }, null);
    expect(missing.status).toBe(400);
    expect(missing.json.errors?.[0]).toEqual({ path: "idempotency-key", message: expect.stringContaining("required") });
    const long = await redeem(admin, { points: 1, reason: "r" }, "k".repeat(256));
    expect(long.status).toBe(400);
    expect(long.json.errors?.[0]?.path).toBe("Idempotency-Key");
    const big = await redeem(admin, { points: 1, reason: "r", metadata: { blob: "x".repeat(33_000) } });
    expect(big.status).toBe(413);
    expect(big.json.errors?.[0]?.path).toBe("metadata");
  });

  it("redeems once per key: a replay answers the same with Idempotent-Replayed, another body under the key is 409", async () => {
    const { admin } = await withBalance(300);
    const body = { points: 120, reason: "voucher", reference: "order-1", metadata: { sku: "V10" } };
    const first = await redeem(admin, body, "redeem-1");
    expect(first.status).toBe(201);
    expect(first.json).toEqual({ redemptionId: expect.any(String), points: 120, balance: 180, createdAt: expect.any(String) });
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    const replay = await redeem(admin, body, "redeem-1");
    expect(replay.status).toBe(201);
    expect(replay.json).toEqual(first.json);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(await balanceOf(admin)).toBe(180);
    const conflict = await redeem(admin, { ...body, points: 10 }, "redeem-1");
    expect(conflict.status).toBe(409);
    expect(await balanceOf(admin)).toBe(180);
  });

  it("refuses more than the balance with 422 naming points, and an unregistered user with 404", async () => {
    const { admin } = await withBalance(100);
    const short = await redeem(admin, { points: 101, reason: "too much" });
    expect(short.status).toBe(422);
    expect(short.json.errors?.[0]).toEqual({ path: "points", message: expect.stringContaining("100") });
    expect(await balanceOf(admin)).toBe(100);
    expect((await redeem(admin, { points: 1, reason: "r" }, undefined, "nobody")).status).toBe(404);
  });

  it("succeeds exactly 10 times for 200 concurrent redemptions of 10 against a balance of 100", async () => {
    const { admin } = await withBalance(100);
    const results = await Promise.all(Array.from({ length: 200 }, () => redeem(admin, { points: 10, reason: "race" })));
    expect(results.filter((r) => r.status === 201)).toHaveLength(10);
    expect(results.filter((r) => r.status === 422)).toHaveLength(190);
    expect(await balanceOf(admin)).toBe(0);
  });

  it("lets user tokens redeem only their own points and only where the project allows it; keys need points:redeem", async () => {
    const { admin, projectId } = await withBalance(200);
    const alice = { bearer: await userToken(projectId, "alice") };
    const notAllowed = await redeem(alice, { points: 10, reason: "app" });
    expect(notAllowed.status).toBe(403);
    expect(notAllowed.json.message).toContain("userTokensMayRedeem");
    expect((await api("PUT", "/v1/admin/project/settings", { auth: admin, body: { userTokensMayRedeem: true } })).status).toBe(200);
    expect((await redeem(alice, { points: 10, reason: "app" })).status).toBe(201);
    expect((await redeem(alice, { points: 10, reason: "app" }, undefined, "bob")).status).toBe(403);

    const logKey = await apiKeyWith(admin, ["events:log"]);
    const refused = await redeem(logKey, { points: 10, reason: "pos" });
    expect(refused.status).toBe(403);
    expect(refused.json.message).toContain('"points:redeem"');
    const redeemKey = await apiKeyWith(admin, ["points:redeem"]);
    expect((await redeem(redeemKey, { points: 10, reason: "pos" })).status).toBe(201);
    expect(await balanceOf(admin)).toBe(180);
  });
});

describe("POST /v1/users/{userId}/redemptions/{redemptionId}/reversal", () => {
  it("gives the points back once: a second reversal is 409, an unknown redemption 404; user tokens may not reverse", async () => {
    const { admin, projectId } = await withBalance(100);
    const made = await redeem(admin, { points: 40, reason: "voucher" });
    const path = `/v1/users/alice/redemptions/${made.json.redemptionId}/reversal`;
    const user = { bearer: await userToken(projectId, "alice") };
    expect((await api("POST", path, { auth: user, body: { reason: "cancelled" } })).status).toBe(403);
    expect((await api("POST", path, { auth: admin, body: {} })).json.errors?.[0]?.path).toBe("reason");

    const reversed = await api<ReversalBody>("POST", path, { auth: admin, body: { reason: "order cancelled" } });
    expect(reversed.status).toBe(200);
    expect(reversed.json).toMatchObject({ redemptionId: made.json.redemptionId, points: 40, balance: 100, reason: "voucher", reversedAt: expect.any(String) });
    expect(await balanceOf(admin)).toBe(100);
    expect((await api("POST", path, { auth: admin, body: { reason: "again" } })).status).toBe(409);
    expect(await balanceOf(admin)).toBe(100);
    expect((await api("POST", "/v1/users/alice/redemptions/rd_unknown/reversal", { auth: admin, body: { reason: "x" } })).status).toBe(404);
  });
});

describe("GET /v1/users/{userId}/points-history", () => {
  it("lists every change newest first with its running balance, in pages, for the user itself or users:read", async () => {
    const { admin, projectId } = await withBalance(300);
    const made = await redeem(admin, { points: 50, reason: "voucher" });
    await api("POST", `/v1/users/alice/redemptions/${made.json.redemptionId}/reversal`, { auth: admin, body: { reason: "cancelled" } });

    const page = await api<PointsHistoryBody>("GET", "/v1/users/alice/points-history?limit=2", { auth: admin });
    expect(page.status).toBe(200);
    expect(page.json.entries.map((e) => [e.type, e.points, e.balanceAfter])).toEqual([
      ["reverse", 50, 300],
      ["redeem", -50, 250],
    ]);
    const rest = await api<PointsHistoryBody>("GET", `/v1/users/alice/points-history?limit=10&cursor=${page.json.nextCursor}`, { auth: admin });
    expect(rest.json.entries.map((e) => [e.type, e.points, e.balanceAfter])).toEqual([
      ["earn", 100, 300],
      ["earn", 100, 200],
      ["earn", 100, 100],
    ]);
    expect(rest.json.nextCursor).toBeNull();
    const all = [...page.json.entries, ...rest.json.entries];
    // The running balance: each entry's balanceAfter is the one before it plus its points.
    for (let i = 0; i < all.length - 1; i++) expect(all[i]!.balanceAfter).toBe(all[i + 1]!.balanceAfter + all[i]!.points);

    const alice = { bearer: await userToken(projectId, "alice") };
    expect((await api("GET", "/v1/users/alice/points-history", { auth: alice })).status).toBe(200);
    expect((await api("GET", "/v1/users/bob/points-history", { auth: alice })).status).toBe(403);
    const reader = await apiKeyWith(admin, ["users:read"]);
    expect((await api("GET", "/v1/users/alice/points-history", { auth: reader })).status).toBe(200);
    expect((await api("GET", "/v1/users/nobody/points-history", { auth: admin })).status).toBe(404);
  });

  it.each([
    ["limit=0", "limit"],
    ["limit=101", "limit"],
    ["limit=x", "limit"],
    ["cursor=not-a-cursor", "cursor"],
  ])("refuses ?%s with 400 naming %s", async (query, path) => {
    const { admin } = await setupProject();
    const res = await api("GET", `/v1/users/alice/points-history?${query}`, { auth: admin });
    expect(res.status).toBe(400);
    expect(res.json.errors?.[0]?.path).toBe(path);
  });
});
