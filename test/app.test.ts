import { describe, expect, it } from "vitest";
import { versionedPath } from "../src/app";
import type { EventDefinition } from "../src/domain/definition";
import { api, setupProject } from "./helpers";

/** The parts of the OpenAPI document these tests read. */
type OpenApiDocument = {
  paths: Record<
    string,
    Record<
      string,
      { requestBody?: { content: Record<string, { schema?: unknown }> }; parameters?: Array<{ name: string }>; responses: Record<string, unknown> }
    >
  >;
  components: { securitySchemes: Record<string, unknown>; schemas: Record<string, { properties?: Record<string, unknown> }> };
};

describe("version prefixes", () => {
  it.each([
    ["/v0/event", "/v1/event"],
    ["/v1/event", "/v1/event"],
    ["/v2/event/x?y=1", "/v1/event/x"],
    ["/v3", "/v1"],
    ["/health", "/health"],
  ])("maps %s to %s", (path, expected) => {
    expect(versionedPath(new Request(`http://h${path}`))).toBe(expected);
  });

  it("serves the same routes under /v0 to /v3 and 404s any other version", async () => {
    const { admin } = await setupProject();
    for (const version of ["v0", "v1", "v2", "v3"]) {
      const res = await api<EventDefinition>("GET", `/${version}/event/purchase_completed`, { auth: admin });
      expect(res.status, version).toBe(200);
      expect(res.json.eventId).toBe("purchase_completed");
    }
    for (const version of ["v4", "v10"]) {
      const res = await api("GET", `/${version}/event/purchase_completed`, { auth: admin });
      expect(res.status).toBe(404);
      expect(res.json).toMatchObject({ statusCode: 404 });
    }
  });
});

describe("error envelope", () => {
  it("answers unknown routes with 404", async () => {
    const { admin } = await setupProject();
    const res = await api("GET", "/v1/nothing-here", { auth: admin });
    expect(res.status).toBe(404);
    expect(res.json).toEqual({ statusCode: 404, message: expect.any(String) });
  });

  it("answers invalid JSON with 400", async () => {
    const { admin } = await setupProject();
    const res = await api("POST", "/v1/event", { auth: admin, rawBody: '{"eventId": ' });
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ statusCode: 400, message: "Invalid JSON body" });
  });

  it("answers a body over 64 KiB with 413", async () => {
    const { admin } = await setupProject();
    const res = await api("POST", "/v1/event", {
      auth: admin,
      body: { eventId: "purchase_completed", userId: "alice", metadata: { amount: 1, blob: "x".repeat(70_000) } },
    });
    expect(res.status).toBe(413);
    expect(res.json.statusCode).toBe(413);
  });

  it("names the invalid field", async () => {
    const { admin } = await setupProject();
    const res = await api("POST", "/v1/event", { auth: admin, body: { eventId: "purchase_completed" } });
    expect(res.status).toBe(400);
    expect(res.json.errors).toEqual([{ path: "userId", message: expect.any(String) }]);
  });
});

describe("OpenAPI document", () => {
  it("describes every route, both auth schemes and the error envelope", async () => {
    const res = await api<OpenApiDocument>("GET", "/openapi.json");
    expect(res.status).toBe(200);
    const doc = res.json;
    expect(Object.keys(doc.paths).sort()).toEqual(
      [
        "/v1/admin/api-keys",
        "/v1/admin/api-keys/{id}",
        "/v1/admin/signing-keys",
        "/v1/admin/signing-keys/{kid}",
        "/v1/admin/webhooks",
        "/v1/admin/webhooks/{id}",
        "/v1/admin/webhooks/{id}/deliveries",
        "/v1/admin/webhooks/{id}/deliveries/{deliveryId}/retry",
        "/v1/admin/webhooks/{id}/rotate-secret",
        "/v1/admin/webhooks/{id}/test",
        "/v1/admin/project/auth",
        "/v1/auth/tokens",
        "/v1/admin/usage",
        "/v1/operator/projects/{projectKey}/quotas",
        "/v1/operator/projects/{projectKey}/settings",
        "/v1/admin/archive",
        "/v1/admin/archive/file",
        "/v1/admin/dead-letters",
        "/v1/admin/dead-letters/{id}/replay",
        "/v1/admin/reconciliation",
        "/v1/admin/challenges",
        "/v1/admin/challenges/{challengeId}",
        "/v1/admin/events/{eventId}",
        "/v1/admin/leaderboards",
        "/v1/admin/leaderboards/{leaderboardId}",
        "/v1/admin/streaks",
        "/v1/admin/streaks/{streakId}",
        "/v1/analytics/streak",
        "/v1/leaderboards/{leaderboardId}",
        "/v1/leaderboards/{leaderboardId}/users/{userId}",
        "/v1/loyalty-events",
        "/v1/loyalty-events/{id}",
        "/v1/loyalty-events/{id}/adjustments",
        "/v1/users/{userId}",
        "/v1/users/{userId}/redemptions",
        "/v1/users/{userId}/redemptions/{redemptionId}/reversal",
        "/v1/users/{userId}/points-history",
        "/v1/admin/project/settings",
        "/v1/admin/tiers",
        "/v1/stats/points",
        "/v1/admin/users/batch",
        "/v1/admin/users/{userId}",
        "/v1/event",
        "/v1/event/{eventId}",
        "/v1/events/batch",
        "/v1/stats/event",
      ].sort(),
    );
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(["apiKey", "bearerAuth"]);
    expect(doc.components.schemas.Error!.properties).toHaveProperty("errors");
    expect(doc.paths["/v1/event"]!.post!.requestBody!.content["application/json"]!.schema).toEqual({ $ref: "#/components/schemas/LogEventInput" });
    const statsParams = doc.paths["/v1/stats/event"]!.get!.parameters!.map((p) => p.name);
    expect(statsParams.sort()).toEqual(["eventId", "month", "period", "timeframe"]);
    // Routes with a body document 413 and 415; every route documents 429.
    expect(Object.keys(doc.paths["/v1/event"]!.post!.responses).sort()).toEqual(["200", "400", "401", "403", "404", "413", "415", "422", "429", "503"].sort());
    expect(Object.keys(doc.paths["/v1/stats/event"]!.get!.responses)).toContain("429");
  });
});
