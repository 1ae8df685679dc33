import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { BatchResponseBody } from "../../src/routes/event-log";
import { api, instrumentedD1, setupProject, userObject } from "../helpers";
import { purchase } from "../routes/log-helpers";

/** The tables a user's object created: none while nothing was ever stored in it. */
const objectTables = (projectId: string, userId: string) =>
  runInDurableObject(userObject(projectId, userId), (_instance, state) => state.storage.sql.exec("SELECT name FROM sqlite_master").toArray());

describe("unregistered users cost no storage", () => {
  it("answers a batch of 1,000 unknown users with 404s from one registration query, creating no user object", async () => {
    const { admin, projectId } = await setupProject();
    const d1 = instrumentedD1();
    const events = Array.from({ length: 1000 }, (_, i) => purchase(`ghost-${i}`));
    const res = await api<BatchResponseBody>("POST", "/v1/events/batch", { auth: admin, body: { events }, env: { DB: d1.db } });
    expect(res.status).toBe(200);
    expect(new Set(res.json.results.map((r) => r.statusCode))).toEqual(new Set([404]));
    // Definitions (cold isolate: version + load) and one query for the batch's users: a handful, not one per user.
    expect(d1.calls()).toBeLessThan(10);
    for (const userId of ["ghost-0", "ghost-500", "ghost-999"]) expect(await objectTables(projectId, userId)).toEqual([]);
  });

  it("stores nothing for an unknown user logged through the single route", async () => {
    const { admin, projectId } = await setupProject();
    const res = await api("POST", "/v1/event", { auth: admin, body: purchase("nobody") });
    expect(res.status).toBe(404);
    expect(await objectTables(projectId, "nobody")).toEqual([]);
  });
});
