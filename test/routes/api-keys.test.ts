import { describe, expect, it } from "vitest";
import type { ApiKeyBody, CreatedApiKeyBody } from "../../src/routes/api-keys";
import { api, setupProject } from "../helpers";

describe("API keys", () => {
  it("creates a key shown once, lists it without secrets, uses it with server rights, and revokes it", async () => {
    const { admin } = await setupProject({ users: { alice: [], bob: [] } });
    const created = await api<CreatedApiKeyBody>("POST", "/v1/admin/api-keys", { auth: admin, body: { name: "pos backend", scopes: ["admin"] } });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ id: expect.any(String), name: "pos backend", key: expect.stringMatching(/^lek_/), createdAt: expect.any(String) });
    const key = created.json.key;

    const listed = await api<ApiKeyBody[]>("GET", "/v1/admin/api-keys", { auth: admin });
    expect(listed.status).toBe(200);
    expect(listed.json).toHaveLength(1);
    expect(listed.json[0]).not.toHaveProperty("key");
    expect(JSON.stringify(listed.json)).not.toContain(key);

    // Server rights: any user of its project, admin routes included.
    const apiKey = { apiKey: key };
    for (const userId of ["alice", "bob"]) {
      const logged = await api("POST", "/v1/event", {
        auth: apiKey,
        body: { eventId: "purchase_completed", userId, metadata: { amount: 10 } },
      });
      expect(logged.status, logged.text).toBe(200);
    }
    expect((await api("GET", "/v1/admin/users/bob", { auth: apiKey })).status).toBe(200);

    const revoked = await api("DELETE", `/v1/admin/api-keys/${created.json.id}`, { auth: admin });
    expect(revoked.status).toBe(204);
    expect((await api("GET", "/v1/event", { auth: apiKey })).status).toBe(401);
    expect((await api("DELETE", `/v1/admin/api-keys/${created.json.id}`, { auth: admin })).status).toBe(404);
    expect((await api<ApiKeyBody[]>("GET", "/v1/admin/api-keys", { auth: admin })).json).toEqual([]);
  });

  it("scopes keys to their project", async () => {
    const a = await setupProject();
    const b = await setupProject();
    const key = (await api<CreatedApiKeyBody>("POST", "/v1/admin/api-keys", { auth: a.admin, body: { name: "a", scopes: ["admin"] } })).json;
    expect((await api("DELETE", `/v1/admin/api-keys/${key.id}`, { auth: b.admin })).status).toBe(404);
    expect((await api<ApiKeyBody[]>("GET", "/v1/admin/api-keys", { auth: b.admin })).json).toEqual([]);
    // A's key cannot see B's definitions or users.
    const aKey = { apiKey: key.key };
    const putInB = await api("PUT", "/v1/admin/events/only_in_b", { auth: b.admin, body: { title: "b", reward: { default: 1 } } });
    expect(putInB.status).toBe(201);
    expect((await api("GET", "/v1/event/only_in_b", { auth: b.admin })).status).toBe(200);
    expect((await api("GET", "/v1/event/only_in_b", { auth: aKey })).status).toBe(404);
  });

  it("rejects a create without a name", async () => {
    const { admin } = await setupProject();
    const res = await api("POST", "/v1/admin/api-keys", { auth: admin, body: {} });
    expect(res.status).toBe(400);
    expect(res.json.errors?.[0]?.path).toBe("name");
  });
});
