import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { getDb } from "../../src/db/client";
import type { ErrorEnvelope } from "../../src/http/errors";
import { repairRegistrations } from "../../src/services/users";
import { adminToken, api, setupProject, userObject } from "../helpers";

/** What the user's object holds of its registration. */
async function objectRegistration(projectId: string, userId: string) {
  return runInDurableObject(userObject(projectId, userId), (_instance, state) =>
    state.storage.sql.exec<{ usergroups: string; registration_version: number }>("SELECT usergroups, registration_version FROM profile").one(),
  );
}

async function d1Registration(projectId: string, userId: string) {
  return env.DB.prepare("SELECT usergroups, registration_version, object_version FROM users WHERE project_key = ? AND user_id = ?")
    .bind(projectId, userId)
    .first<{ usergroups: string; registration_version: number; object_version: number }>();
}

/** The Worker with a USER_STATE namespace whose objects cannot be reached (every call throws). */
function appWithUnreachableObjects() {
  const unreachable = new Proxy(env.USER_STATE, {
    get(target, property) {
      if (property === "get") {
        return () => new Proxy({}, { get: () => async () => Promise.reject(new Error("Durable Object is overloaded")) });
      }
      const value = Reflect.get(target, property);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const app = createApp();
  return async (method: string, path: string, bearer: string, body?: unknown) => {
    const init: RequestInit = { method, headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json" } };
    if (body !== undefined) init.body = JSON.stringify(body);
    const response = await app.fetch(new Request(`http://api.test${path}`, init), { ...env, USER_STATE: unreachable });
    return { status: response.status, headers: response.headers, json: (await response.json()) as ErrorEnvelope };
  };
}

describe("registration: the user's object and D1 agree after any failure or race", () => {
  it("leaves object and D1 equal after 20 concurrent registrations of one user", async () => {
    const { admin, projectId } = await setupProject({ users: { alice: [] } });
    const groups = Array.from({ length: 20 }, (_, i) => [`g${i}`]);
    const results = await Promise.all(groups.map((usergroups) => api("PUT", "/v1/admin/users/alice", { auth: admin, body: { usergroups } })));
    expect(results.map((r) => r.status).every((s) => s === 200)).toBe(true);
    const d1 = await d1Registration(projectId, "alice");
    const object = await objectRegistration(projectId, "alice");
    expect(d1?.registration_version).toBe(21);
    expect(object.registration_version).toBe(21);
    expect(JSON.parse(object.usergroups)).toEqual(JSON.parse(d1!.usergroups));
    expect(d1?.object_version).toBe(21);
  });

  it("ignores a registration older than the one the object holds", async () => {
    const { admin, projectId } = await setupProject({ users: { alice: ["gold"] } });
    await api("PUT", "/v1/admin/users/alice", { auth: admin, body: { usergroups: ["silver"] } });
    const stale = { projectKey: projectId, programId: 1, userId: "alice", accountId: 1, usergroups: ["gold"], registrationVersion: 1 };
    const answer = await userObject(projectId, "alice").register(stale);
    expect(answer.registrationVersion).toBe(2);
    expect(JSON.parse((await objectRegistration(projectId, "alice")).usergroups)).toEqual(["silver"]);
  });

  it("answers 503 with Retry-After when the object cannot be reached, and the scheduled repair makes them agree", async () => {
    const { projectId } = await setupProject({ users: { alice: ["gold"] } });
    const call = appWithUnreachableObjects();
    const bearer = await adminToken(projectId);
    const put = await call("PUT", "/v1/admin/users/alice", bearer, { usergroups: ["silver"] });
    expect(put.status).toBe(503);
    expect(put.headers.get("retry-after")).toBe("1");
    expect(put.json.statusCode).toBe(503);
    // D1 took the change; the object still has the old registration, and D1 knows it is unconfirmed.
    expect(await d1Registration(projectId, "alice")).toMatchObject({ usergroups: '["silver"]', registration_version: 2, object_version: 1 });
    expect(JSON.parse((await objectRegistration(projectId, "alice")).usergroups)).toEqual(["gold"]);

    // The scheduled repair pushes every unconfirmed registration (other tests' too: keep going until this one is done).
    await expect
      .poll(async () => {
        await repairRegistrations(env, getDb(env.DB));
        return (await d1Registration(projectId, "alice"))?.object_version;
      })
      .toBe(2);
    expect(JSON.parse((await objectRegistration(projectId, "alice")).usergroups)).toEqual(["silver"]);
  });

  it("answers 503, not 500, on every read that needs an unreachable object", async () => {
    const { projectId } = await setupProject({ users: { alice: [] } });
    const call = appWithUnreachableObjects();
    const bearer = await adminToken(projectId);
    for (const path of ["/v1/users/alice", "/v1/admin/users/alice"]) {
      const res = await call("GET", path, bearer);
      expect(res.status, path).toBe(503);
      expect(res.headers.get("retry-after"), path).toBe("1");
    }
  });
});
