import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { userStateName } from "../../src/durable/stub";
import type { LoyaltyEvent } from "../../src/domain/ledger";
import type { UserBody } from "../../src/routes/admin-users";
import type { BatchResponseBody } from "../../src/routes/event-log";
import { api, setupProject, unreachableUserObjects } from "../helpers";
import { purchase } from "../routes/log-helpers";

describe("a user's object out of reach", () => {
  it("answers 503 with Retry-After to a log, and in a batch too", async () => {
    const { admin } = await setupProject();
    const USER_STATE = unreachableUserObjects();
    const single = await api("POST", "/v1/event", { auth: admin, body: purchase("alice"), env: { USER_STATE } });
    expect(single.status).toBe(503);
    expect(single.headers.get("retry-after")).toBe("1");
    expect(single.json.message).toBe("User state is temporarily unavailable; retry with an Idempotency-Key");
    const batch = await api<BatchResponseBody>("POST", "/v1/events/batch", { auth: admin, body: { events: [purchase("alice")] }, env: { USER_STATE } });
    expect(batch.status).toBe(200);
    expect(batch.headers.get("retry-after")).toBe("1");
    expect(batch.json.results).toEqual([single.json]);
  });

  it("answers 503 with Retry-After to reads and writes of the user's state: profile, ledger, adjustment, registration", async () => {
    const { admin, projectId } = await setupProject();
    const logged = await api("POST", "/v1/event", { auth: admin, body: purchase("alice") });
    expect(logged.status).toBe(200);
    const { accountId } = (await api<UserBody>("GET", "/v1/admin/users/alice", { auth: admin })).json;
    const [entry] = (await api<LoyaltyEvent[]>("GET", `/v1/loyalty-events?accountid=${accountId}`, { auth: admin })).json;
    const alice = env.USER_STATE.idFromName(userStateName(projectId, "alice"));
    const USER_STATE = unreachableUserObjects((id) => id.equals(alice));
    const calls = [
      api("GET", "/v1/users/alice", { auth: admin, env: { USER_STATE } }),
      api("GET", `/v1/loyalty-events?accountid=${accountId}`, { auth: admin, env: { USER_STATE } }),
      api("POST", `/v1/loyalty-events/${entry!.id}/adjustments`, { auth: admin, body: { rewardAmount: 0, reason: "refund" }, env: { USER_STATE } }),
      api("PUT", "/v1/admin/users/alice", { auth: admin, body: { usergroups: ["gold"] }, env: { USER_STATE } }),
    ];
    for (const res of await Promise.all(calls)) {
      expect(res.status, res.text).toBe(503);
      expect(res.headers.get("retry-after")).toBe("1");
    }
    // Another user's object answers as usual.
    expect((await api("PUT", "/v1/admin/users/bob", { auth: admin, body: {}, env: { USER_STATE } })).status).toBe(201);
  });
});
