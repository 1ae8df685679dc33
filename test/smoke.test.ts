import { describe, expect, it } from "vitest";
import { api, setupProject } from "./helpers";

describe("smoke", () => {
  it("creates a definition and logs an event", async () => {
    const { admin } = await setupProject();
    const got = await api("GET", "/v3/event/purchase_completed", { auth: admin });
    expect(got.status).toBe(200);
    const logged = await api("POST", "/v1/event", {
      auth: admin,
      body: { eventId: "purchase_completed", userId: "alice", metadata: { amount: 49.99 } },
    });
    expect(logged.status, logged.text).toBe(200);
    expect(logged.json.data.points).toBe(50);
  });
});
