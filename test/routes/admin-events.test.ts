import { describe, expect, it } from "vitest";
import type { EventDefinition } from "../../src/domain/definition";
import { MAX_REWARD_GROUPS } from "../../src/domain/limits";
import { api, loginDefinition, purchaseDefinition, setupProject, userToken } from "../helpers";

describe("PUT/DELETE /v1/admin/events/{eventId}", () => {
  it("creates (201), replaces (200) and returns the stored document with defaults", async () => {
    const { admin } = await setupProject({ definitions: {} });
    const created = await api<EventDefinition>("PUT", "/v1/admin/events/login", { auth: admin, body: loginDefinition });
    expect(created.status).toBe(201);
    expect(created.json).toEqual({
      eventId: "login",
      title: "Daily login",
      description: "",
      status: "ACTIVE",
      type: "STANDARD",
      reward: { default: 5 },
      limitPeriod: "lifetime",
      metadataFields: [],
      requiresApiKey: false,
    });
    const replaced = await api("PUT", "/v1/admin/events/login", { auth: admin, body: { ...loginDefinition, title: "Login" } });
    expect(replaced.status).toBe(200);
    expect((await api<EventDefinition>("GET", "/v1/event/login", { auth: admin })).json.title).toBe("Login");
  });

  it.each([
    ["TRANSACTION without rewardValueField", { ...purchaseDefinition, rewardValueField: undefined }, "rewardValueField"],
    ["no default reward", { ...loginDefinition, reward: { gold: 1 } }, "reward.default"],
    [
      "unknown operator",
      { ...loginDefinition, conditions: { type: "AND", conditions: [{ field: "a", operator: "like", value: 1 }] } },
      "conditions.conditions.0",
    ],
    ["unknown key", { ...loginDefinition, limitPeriods: "day" }, "(root)"],
    ["negative limit", { ...loginDefinition, limit: -1 }, "limit"],
    ["reward rate over 1e6", { ...loginDefinition, reward: { default: 1_000_001 } }, "reward.default"],
    ["bad status", { ...loginDefinition, status: "ON" }, "status"],
    ["bad loyaltyEventType", { ...loginDefinition, loyaltyEventType: "X" }, "loyaltyEventType"],
  ])("rejects %s with 400 naming the field", async (_name, body, path) => {
    const { admin } = await setupProject({ definitions: {} });
    const res = await api("PUT", "/v1/admin/events/bad", { auth: admin, body });
    expect(res.status).toBe(400);
    expect(res.json.statusCode).toBe(400);
    expect(res.json.errors!.map((e) => e.path).some((p) => p.startsWith(path))).toBe(true);
    expect((await api("GET", "/v1/event/bad", { auth: admin })).status).toBe(404);
  });

  it(`takes a reward map of at most ${MAX_REWARD_GROUPS} usergroups, 400 naming reward past it`, async () => {
    const { admin } = await setupProject({ definitions: {} });
    const groups = (n: number) => Object.fromEntries([["default", 1], ...Array.from({ length: n - 1 }, (_, i) => [`group${i}`, 2])]);
    expect((await api("PUT", "/v1/admin/events/many", { auth: admin, body: { ...loginDefinition, reward: groups(MAX_REWARD_GROUPS) } })).status).toBe(201);
    const over = await api("PUT", "/v1/admin/events/many", { auth: admin, body: { ...loginDefinition, reward: groups(MAX_REWARD_GROUPS + 1) } });
    expect(over.status).toBe(400);
    expect(over.json.errors).toEqual([{ path: "reward", message: `must name at most ${MAX_REWARD_GROUPS} usergroups` }]);
    expect(Object.keys((await api<EventDefinition>("GET", "/v1/event/many", { auth: admin })).json.reward)).toHaveLength(MAX_REWARD_GROUPS);
  });

  it("rejects an invalid eventId in the path", async () => {
    const { admin } = await setupProject({ definitions: {} });
    const res = await api("PUT", `/v1/admin/events/${"x".repeat(200)}`, { auth: admin, body: loginDefinition });
    expect(res.status).toBe(400);
    expect(res.json.errors?.[0]?.path).toBe("eventId");
  });

  it("DELETE sets the definition INACTIVE and 404s an unknown one", async () => {
    const { admin } = await setupProject({ definitions: { login: loginDefinition } });
    const deleted = await api<EventDefinition>("DELETE", "/v1/admin/events/login", { auth: admin });
    expect(deleted.status).toBe(200);
    expect(deleted.json.status).toBe("INACTIVE");
    expect((await api<EventDefinition>("GET", "/v1/event/login", { auth: admin })).json.status).toBe("INACTIVE");
    expect((await api("DELETE", "/v1/admin/events/nope", { auth: admin })).status).toBe(404);
  });
});

describe("GET /v1/event", () => {
  it("lists all by default, only ACTIVE with showAll=false, and is readable by user tokens", async () => {
    const { admin, projectId } = await setupProject({
      definitions: { purchase_completed: purchaseDefinition, login: loginDefinition },
    });
    await api("DELETE", "/v1/admin/events/login", { auth: admin });
    const user = { bearer: await userToken(projectId, "alice") };
    const all = await api<EventDefinition[]>("GET", "/v1/event", { auth: user });
    expect(all.status).toBe(200);
    expect(all.json.map((d) => d.eventId)).toEqual(["login", "purchase_completed"]);
    const active = await api<EventDefinition[]>("GET", "/v1/event?showAll=false", { auth: user });
    expect(active.json.map((d) => d.eventId)).toEqual(["purchase_completed"]);
    expect(active.json[0]).toMatchObject({ type: "TRANSACTION", limit: 10, maximumReward: 1000, reward: { default: 1, gold: 2 } });
    expect((await api("GET", "/v1/event?showAll=maybe", { auth: user })).status).toBe(400);
  });

  it("answers 204 with no body when the project has no events", async () => {
    const { admin } = await setupProject({ definitions: {} });
    const res = await api("GET", "/v1/event", { auth: admin });
    expect(res.status).toBe(204);
    expect(res.text).toBe("");
  });

  it("answers 404 for an unknown event and never shows another project's", async () => {
    const a = await setupProject();
    const b = await setupProject({ definitions: {} });
    expect((await api("GET", "/v1/event/purchase_completed", { auth: a.admin })).status).toBe(200);
    expect((await api("GET", "/v1/event/purchase_completed", { auth: b.admin })).status).toBe(404);
    expect((await api("GET", "/v1/event", { auth: b.admin })).status).toBe(204);
  });
});
