import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { getDb } from "../../src/db/client";
import type { PointsSettingsBody } from "../../src/routes/project-settings";
import type { TierLadderBody } from "../../src/routes/tiers";
import { projectCatalogue } from "../../src/services/definitions";
import { api, apiKeyWith, setupProject, userToken } from "../helpers";

const ladder = {
  basis: "points_earned",
  window: "calendar_year",
  downgrade: "end_of_window",
  levels: [
    { tierId: "gold", title: "Gold", minPoints: 1000 },
    { tierId: "member", title: "Member", minPoints: 0 },
    { tierId: "silver", title: "Silver", minPoints: 200 },
  ],
};

describe("points settings (PUT/GET /v1/admin/project/settings)", () => {
  it("answers the defaults, changes only the fields sent, grows the version and reaches the catalogue's policy", async () => {
    const { admin, projectId } = await setupProject();
    const initial = await api<PointsSettingsBody>("GET", "/v1/admin/project/settings", { auth: admin });
    expect(initial.status).toBe(200);
    expect(initial.json).toMatchObject({ pointsExpiry: { mode: "none" }, timezone: "UTC", userTokensMayRedeem: false, updatedAt: null });

    const expiry = await api<PointsSettingsBody>("PUT", "/v1/admin/project/settings", {
      auth: admin,
      body: { pointsExpiry: { mode: "after_days", days: 30 }, timezone: "europe/berlin" },
    });
    expect(expiry.status).toBe(200);
    // The zone is stored canonical.
    expect(expiry.json).toMatchObject({ pointsExpiry: { mode: "after_days", days: 30 }, timezone: "Europe/Berlin", userTokensMayRedeem: false });
    expect(expiry.json.version).toBeGreaterThan(initial.json.version);

    const redeem = await api<PointsSettingsBody>("PUT", "/v1/admin/project/settings", { auth: admin, body: { userTokensMayRedeem: true } });
    expect(redeem.json).toMatchObject({ pointsExpiry: { mode: "after_days", days: 30 }, timezone: "Europe/Berlin", userTokensMayRedeem: true });
    expect(redeem.json.version).toBeGreaterThan(expiry.json.version);
    expect((await api<PointsSettingsBody>("GET", "/v1/admin/project/settings", { auth: admin })).json).toEqual(redeem.json);

    // The isolate that wrote sees it at once; the policy carries the same version.
    const { points } = await projectCatalogue(getDb(env.DB), projectId);
    expect(points.settings.userTokensMayRedeem).toBe(true);
    expect(points.policy).toEqual({ version: redeem.json.version, expiry: { mode: "after_days", days: 30 }, timezone: "Europe/Berlin", tiers: null });
  });

  it.each([
    [{ timezone: "Mars/Olympus" }, "timezone"],
    [{ timezone: "+05:30" }, "timezone"],
    [{ timezone: "x".repeat(65) }, "timezone"],
    [{ pointsExpiry: { mode: "after_days", days: 0 } }, "pointsExpiry.days"],
    [{ pointsExpiry: { mode: "after_days", days: 3651 } }, "pointsExpiry.days"],
    [{ pointsExpiry: { mode: "end_of_year_after", years: 11 } }, "pointsExpiry.years"],
    [{ pointsExpiry: { mode: "monthly" } }, "pointsExpiry.mode"],
    [{ userTokensMayRedeem: "yes" }, "userTokensMayRedeem"],
    [{ unknown: 1 }, "(root)"],
  ])("refuses %j with 400 naming %s", async (body, path) => {
    const { admin } = await setupProject();
    const res = await api("PUT", "/v1/admin/project/settings", { auth: admin, body });
    expect(res.status).toBe(400);
    expect(res.json.errors?.[0]?.path).toBe(path);
  });

  it("needs definitions:write to write and events:read to read; user tokens get neither", async () => {
    const { admin, projectId } = await setupProject();
    const reader = await apiKeyWith(admin, ["events:read"]);
    const writer = await apiKeyWith(admin, ["definitions:write"]);
    const user = { bearer: await userToken(projectId, "alice") };
    expect((await api("GET", "/v1/admin/project/settings", { auth: reader })).status).toBe(200);
    const refused = await api("PUT", "/v1/admin/project/settings", { auth: reader, body: { userTokensMayRedeem: true } });
    expect(refused.status).toBe(403);
    expect(refused.json.message).toContain('"definitions:write"');
    expect((await api("PUT", "/v1/admin/project/settings", { auth: writer, body: { userTokensMayRedeem: true } })).status).toBe(200);
    expect((await api("GET", "/v1/admin/project/settings", { auth: user })).status).toBe(403);
    expect((await api("PUT", "/v1/admin/project/settings", { auth: user, body: {} })).status).toBe(403);
  });
});

describe("the tier ladder (PUT/GET/DELETE /v1/admin/tiers)", () => {
  it("creates, sorts by minPoints, replaces, deletes; GET and DELETE of no ladder are 404", async () => {
    const { admin, projectId } = await setupProject();
    expect((await api("GET", "/v1/admin/tiers", { auth: admin })).status).toBe(404);
    expect((await api("DELETE", "/v1/admin/tiers", { auth: admin })).status).toBe(404);

    const created = await api<TierLadderBody>("PUT", "/v1/admin/tiers", { auth: admin, body: ladder });
    expect(created.status).toBe(201);
    expect(created.json.levels.map((l) => l.tierId)).toEqual(["member", "silver", "gold"]);
    expect((await api<TierLadderBody>("GET", "/v1/admin/tiers", { auth: admin })).json).toEqual(created.json);
    expect((await projectCatalogue(getDb(env.DB), projectId)).points.policy.tiers?.levels.map((l) => l.minPoints)).toEqual([0, 200, 1000]);

    const replaced = await api<TierLadderBody>("PUT", "/v1/admin/tiers", { auth: admin, body: { ...ladder, downgrade: "never" } });
    expect(replaced.status).toBe(200);
    expect(replaced.json.downgrade).toBe("never");
    expect(replaced.json.version).toBeGreaterThan(created.json.version);

    // The ladder and the settings share a row: neither write touches the other.
    await api("PUT", "/v1/admin/project/settings", { auth: admin, body: { timezone: "Asia/Tokyo" } });
    expect((await api<TierLadderBody>("GET", "/v1/admin/tiers", { auth: admin })).json.downgrade).toBe("never");

    const deleted = await api("DELETE", "/v1/admin/tiers", { auth: admin });
    expect(deleted.status).toBe(204);
    expect((await api("GET", "/v1/admin/tiers", { auth: admin })).status).toBe(404);
    expect((await projectCatalogue(getDb(env.DB), projectId)).points.policy).toMatchObject({ timezone: "Asia/Tokyo", tiers: null });
    expect((await api<PointsSettingsBody>("GET", "/v1/admin/project/settings", { auth: admin })).json.timezone).toBe("Asia/Tokyo");
  });

  const level = (tierId: string, minPoints: number) => ({ tierId, title: tierId, minPoints });
  it.each([
    [{ levels: [level("a", 0), level("b", 10), level("a", 20)] }, "levels.2.tierId"],
    [{ levels: [level("a", 0), level("b", 10), level("c", 10)] }, "levels.2.minPoints"],
    [{ levels: [] }, "levels"],
    [{ levels: Array.from({ length: 21 }, (_, i) => level(`t${i}`, i)) }, "levels"],
    [{ levels: [level("a", -1)] }, "levels.0.minPoints"],
    [{ levels: [level("a", 1.5)] }, "levels.0.minPoints"],
    [{ levels: [level("no spaces", 0)] }, "levels.0.tierId"],
    [{ levels: [{ tierId: "a", title: "", minPoints: 0 }] }, "levels.0.title"],
    [{ window: "weekly" }, "window"],
    [{ downgrade: "sometimes" }, "downgrade"],
    [{ basis: "points_spent" }, "basis"],
  ])("refuses %j with 400 naming %s", async (change, path) => {
    const { admin } = await setupProject();
    const res = await api("PUT", "/v1/admin/tiers", { auth: admin, body: { ...ladder, ...change } });
    expect(res.status).toBe(400);
    expect(res.json.errors?.map((e) => e.path)).toContain(path);
  });

  it("needs definitions:write to write and events:read to read", async () => {
    const { admin, projectId } = await setupProject();
    const reader = await apiKeyWith(admin, ["events:read"]);
    expect((await api("PUT", "/v1/admin/tiers", { auth: reader, body: ladder })).status).toBe(403);
    expect((await api("PUT", "/v1/admin/tiers", { auth: admin, body: ladder })).status).toBe(201);
    expect((await api("GET", "/v1/admin/tiers", { auth: reader })).status).toBe(200);
    expect((await api("DELETE", "/v1/admin/tiers", { auth: reader })).status).toBe(403);
    expect((await api("GET", "/v1/admin/tiers", { auth: { bearer: await userToken(projectId, "alice") } })).status).toBe(403);
  });
});
