import { describe, expect, it } from "vitest";
import type { UserBody } from "../../src/routes/admin-users";
import { api, setupProject, userToken, type Credential } from "../helpers";
import { purchase } from "../routes/log-helpers";

describe("a user token acts only for itself", () => {
  it("gets the same 403 wherever it names another user, in a path, a query or a body, and is served for itself", async () => {
    const { admin, projectId } = await setupProject({ users: { alice: [], bob: [] } });
    const board = { title: "Weekly points", metric: "points", period: "week", timezone: "UTC" };
    expect((await api("PUT", "/v1/admin/leaderboards/board", { auth: admin, body: board })).status).toBe(201);
    const accountOf = async (userId: string) => (await api<UserBody>("GET", `/v1/admin/users/${userId}`, { auth: admin })).json.accountId;
    const alice: Credential = { bearer: await userToken(projectId, "alice") };
    const calls = async (userId: string, auth: Credential) => [
      await api("POST", "/v1/event", { auth, body: purchase(userId) }),
      await api("GET", `/v1/users/${userId}`, { auth }),
      await api("GET", `/v1/leaderboards/board/users/${userId}`, { auth }),
      await api("GET", `/v1/loyalty-events?accountid=${await accountOf(userId)}`, { auth }),
    ];

    for (const res of await calls("bob", alice)) {
      expect(res.status).toBe(403);
      expect(res.json).toEqual({ statusCode: 403, message: "A user token acts only for its own user" });
    }
    expect((await calls("alice", alice)).map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect((await calls("bob", admin)).map((r) => r.status)).toEqual([200, 200, 200, 200]);
  });
});
