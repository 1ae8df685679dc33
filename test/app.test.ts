import { describe, expect, it } from "vitest";
import { versionedPath } from "../src/app";
import { api, setupProject } from "./helpers";

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
      const res = await api("GET", `/${version}/event/purchase_completed`, { auth: admin });
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
    const res = await api("GET", "/openapi.json");
    expect(res.status).toBe(200);
    const doc = res.json;
    expect(Object.keys(doc.paths).sort()).toEqual(
      [
        "/v1/admin/api-keys",
        "/v1/admin/api-keys/{id}",
        "/v1/admin/events/{eventId}",
        "/v1/admin/users/{userId}",
        "/v1/event",
        "/v1/event/{eventId}",
        "/v1/events/batch",
        "/v1/stats/event",
      ].sort(),
    );
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(["apiKey", "bearerAuth"]);
    expect(doc.components.schemas.Error.properties).toHaveProperty("errors");
    expect(doc.paths["/v1/event"].post.requestBody.content["application/json"].schema).toBeDefined();
    const statsParams = doc.paths["/v1/stats/event"].get.parameters.map((p: { name: string }) => p.name);
    expect(statsParams.sort()).toEqual(["eventId", "month", "period", "timeframe"]);
  });
});
