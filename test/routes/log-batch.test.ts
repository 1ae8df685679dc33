import { describe, expect, it } from "vitest";
import type { EventLoggedEnvelope } from "../../src/domain/logged-event";
import type { ErrorEnvelope } from "../../src/http/errors";
import type { BatchResponseBody } from "../../src/routes/event-log";
import { api, setupProject } from "../helpers";
import { logRowsWhen, purchase } from "./log-helpers";

/** A batch item's `data` if it was logged, undefined if it failed. */
const dataOf = (result: EventLoggedEnvelope | ErrorEnvelope) => ("data" in result ? result.data : undefined);
/** A batch item's `errors` if it failed, undefined if it was logged. */
const errorsOf = (result: EventLoggedEnvelope | ErrorEnvelope) => ("errors" in result ? result.errors : undefined);

describe("POST /v1/events/batch", () => {
  it("answers one result per item, in order, with per-item errors and idempotency keys", async () => {
    const { admin, projectId } = await setupProject({ users: { alice: [], bob: ["gold"] } });
    const events = [
      purchase("alice", { amount: 10 }),
      { eventId: "purchase_completed" },
      purchase("bob", { amount: 10 }),
      purchase("ghost", { amount: 1 }),
      { eventId: "nope", userId: "alice" },
      { ...purchase("alice", { amount: 5 }), idempotencyKey: "b-1" },
      { ...purchase("alice", { amount: 5 }), idempotencyKey: "b-1" },
      purchase("alice", { amount: "x" }),
    ];
    const res = await api<BatchResponseBody>("POST", "/v1/events/batch", { auth: admin, body: { events } });
    expect(res.status).toBe(200);
    const results = res.json.results;
    expect(results.map((r) => r.statusCode)).toEqual([200, 400, 200, 404, 404, 200, 200, 400]);
    expect(dataOf(results[0]!)).toMatchObject({ userId: "alice", points: 10, balance: 10 });
    expect(errorsOf(results[1]!)?.[0]?.path).toBe("events.1.userId");
    expect(dataOf(results[2]!)).toMatchObject({ userId: "bob", points: 20 });
    expect(dataOf(results[5]!)?.balance).toBe(15);
    expect(results[5]).toMatchObject({ replayed: false });
    expect(results[6]).toEqual({ ...results[5], replayed: true });
    expect(errorsOf(results[7]!)?.[0]?.path).toBe("metadata.amount");
    const rows = await logRowsWhen(projectId, 3);
    expect(rows.map((r) => r.user_id).sort()).toEqual(["alice", "alice", "bob"]);
  });

  it("rejects an empty or oversized batch", async () => {
    const { admin } = await setupProject();
    expect((await api("POST", "/v1/events/batch", { auth: admin, body: { events: [] } })).status).toBe(400);
    const tooMany = Array.from({ length: 1001 }, () => ({ eventId: "a", userId: "b" }));
    const res = await api("POST", "/v1/events/batch", { auth: admin, body: { events: tooMany } });
    expect(res.status).toBe(400);
    expect(res.json.errors?.[0]?.path).toBe("events");
  });

  it("marks replays in batch results as the single route does with its header", async () => {
    const { admin } = await setupProject();
    const events = [{ ...purchase("alice"), idempotencyKey: "b-1" }];
    const first = await api<BatchResponseBody>("POST", "/v1/events/batch", { auth: admin, body: { events } });
    const again = await api<BatchResponseBody>("POST", "/v1/events/batch", { auth: admin, body: { events } });
    expect(first.json.results[0]).toMatchObject({ statusCode: 200, replayed: false });
    expect(again.json.results[0]).toMatchObject({ statusCode: 200, replayed: true });
  });
});
