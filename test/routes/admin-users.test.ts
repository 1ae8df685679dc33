import { describe, expect, it } from "vitest";
import type { UserBody } from "../../src/routes/admin-users";
import { api, setupProject } from "../helpers";

describe("PUT/GET /v1/admin/users/{userId}", () => {
  it("registers once with a numeric accountId, then updates only what is sent", async () => {
    const { admin } = await setupProject({ users: {} });
    const created = await api<UserBody>("PUT", "/v1/admin/users/u-1", { auth: admin, body: { usergroups: ["gold"], attributes: { tier: 2 } } });
    expect(created.status).toBe(201);
    // One moment for a new user: created and last updated are the same instant.
    expect(created.json.createdAt).toBe(created.json.updatedAt);
    expect(created.json).toMatchObject({ userId: "u-1", accountId: expect.any(Number), usergroups: ["gold"], attributes: { tier: 2 }, balance: 0 });
    const updated = await api<UserBody>("PUT", "/v1/admin/users/u-1", { auth: admin, body: { usergroups: ["silver"] } });
    expect(updated.status).toBe(200);
    expect(updated.json).toMatchObject({ accountId: created.json.accountId, usergroups: ["silver"], attributes: { tier: 2 } });
    const got = await api<UserBody>("GET", "/v1/admin/users/u-1", { auth: admin });
    expect(got.json).toMatchObject({ accountId: created.json.accountId, usergroups: ["silver"] });
  });

  it("gives every user its own accountId and keeps projects apart", async () => {
    const a = await setupProject({ users: { alice: [] } });
    const b = await setupProject({ users: { alice: [] } });
    const inA = await api<UserBody>("GET", "/v1/admin/users/alice", { auth: a.admin });
    const inB = await api<UserBody>("GET", "/v1/admin/users/alice", { auth: b.admin });
    expect(inA.json.accountId).not.toBe(inB.json.accountId);
    expect((await api("GET", "/v1/admin/users/nobody", { auth: a.admin })).status).toBe(404);
  });

  it("rejects bad bodies with 400 naming the field", async () => {
    const { admin } = await setupProject({ users: {} });
    const res = await api("PUT", "/v1/admin/users/u-2", { auth: admin, body: { usergroups: "gold" } });
    expect(res.status).toBe(400);
    expect(res.json.errors?.[0]?.path).toBe("usergroups");
    expect((await api("GET", "/v1/admin/users/u-2", { auth: admin })).status).toBe(404);
  });
});
