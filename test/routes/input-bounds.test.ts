import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { EventDefinition } from "../../src/domain/definition";
import { MAX_CONDITION_DEPTH } from "../../src/domain/limits";
import type { EventLoggedEnvelope } from "../../src/domain/logged-event";
import type { BatchResponseBody } from "../../src/routes/event-log";
import { api, setupProject } from "../helpers";

/** A condition tree nested `levels` groups deep around one leaf. */
function nestedGroups(levels: number) {
  let tree: Record<string, unknown> = { field: "amount", operator: "exists" };
  for (let i = 0; i < levels; i++) tree = { type: "AND", conditions: [tree] };
  return tree;
}

describe("stats: date inputs are bounded", () => {
  it.each([
    ["9999-12", 400],
    ["1969-12", 400],
    ["1970-01", 200],
    [new Date().toISOString().slice(0, 7), 200],
    [`${new Date().getUTCFullYear() + 1}-01`, 400],
  ])("timeframe=month&month=%s answers %i", async (month, status) => {
    const { admin } = await setupProject();
    const res = await api("GET", `/v1/stats/event?timeframe=month&month=${month}`, { auth: admin });
    expect(res.status).toBe(status);
    if (status === 400) expect(res.json.errors?.[0]?.path).toBe("month");
  });
});

describe("definitions: condition trees are bounded", () => {
  it.each([
    [680, 400],
    [MAX_CONDITION_DEPTH + 1, 400],
  ])("a tree %i groups deep is 400 naming conditions", async (levels, status) => {
    const { admin } = await setupProject();
    const res = await api("PUT", "/v1/admin/events/deep", {
      auth: admin,
      body: { title: "Deep", reward: { default: 1 }, conditions: nestedGroups(levels) },
    });
    expect(res.status).toBe(status);
    expect(res.json.errors?.[0]?.path).toBe("conditions");
  });

  it(`stores a tree ${MAX_CONDITION_DEPTH} groups deep, evaluates it, and deactivates it`, async () => {
    const { admin } = await setupProject();
    const put = await api("PUT", "/v1/admin/events/deep", {
      auth: admin,
      body: { title: "Deep", reward: { default: 1 }, conditions: nestedGroups(MAX_CONDITION_DEPTH) },
    });
    expect(put.status).toBe(201);
    const logged = await api<EventLoggedEnvelope>("POST", "/v1/event", { auth: admin, body: { eventId: "deep", userId: "alice", metadata: { amount: 1 } } });
    expect(logged.json.data).toMatchObject({ conditionReached: true, points: 1 });
    const deleted = await api<EventDefinition>("DELETE", "/v1/admin/events/deep", { auth: admin });
    expect(deleted.status).toBe(200);
    expect(deleted.json.status).toBe("INACTIVE");
  });

  it("400s a tree with more than 1,000 conditions", async () => {
    const { admin } = await setupProject();
    const group = (n: number) => ({ type: "OR", conditions: Array.from({ length: n }, (_, i) => ({ field: `f${i}`, operator: "exists" })) });
    const res = await api("PUT", "/v1/admin/events/wide", {
      auth: admin,
      body: { title: "Wide", reward: { default: 1 }, conditions: { type: "AND", conditions: Array.from({ length: 11 }, () => group(100)) } },
    });
    expect(res.status).toBe(400);
    expect(res.json.errors?.[0]?.path).toBe("conditions");
  });
});

describe("no input makes the API fail or hang", () => {
  const hostileJson = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      fc.oneof(fc.integer(), fc.double(), fc.constantFrom(1e308, -1e308, 2 ** 53 + 1, 1e-300), fc.string(), fc.boolean(), fc.constant(null)),
      fc.string({ minLength: 0, maxLength: 3000 }),
      fc.array(tie("value"), { maxLength: 4 }),
      fc.dictionary(fc.string({ maxLength: 12 }), tie("value"), { maxKeys: 4 }),
    ),
  })).value;
  const deepGroups = fc.integer({ min: 0, max: 900 }).map(nestedGroups);
  const farDate = fc.oneof(
    fc.date({ min: new Date("0001-01-01"), max: new Date("9999-12-31"), noInvalidDate: true }).map((d) => d.toISOString()),
    fc.constantFrom("+010000-01-01T00:00:00Z", "-000001-01-01T00:00:00Z", "2026-02-30T00:00:00Z"),
  );

  it("definition bodies", async () => {
    const { admin } = await setupProject();
    const body = fc.record(
      {
        title: fc.oneof(fc.string({ maxLength: 300 }), hostileJson),
        reward: fc.oneof(fc.record({ default: fc.oneof(fc.double(), fc.integer(), fc.constant(1e300)) }), hostileJson),
        type: fc.constantFrom("STANDARD", "TRANSACTION", "OTHER"),
        rewardValueField: fc.string({ maxLength: 300 }),
        limit: fc.oneof(fc.integer(), fc.double(), fc.constant(2 ** 60)),
        limitPeriod: fc.constantFrom("day", "week", "month", "lifetime", "year"),
        conditions: fc.oneof(deepGroups, hostileJson),
        metadataFields: hostileJson,
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(body, fc.string({ minLength: 1, maxLength: 20 }), async (value, id) => {
        const res = await api("PUT", `/v1/admin/events/${encodeURIComponent(id)}`, { auth: admin, rawBody: JSON.stringify(value) });
        expect(res.status, res.text.slice(0, 300)).toBeLessThan(500);
      }),
      { numRuns: 120 },
    );
  });

  it("stats queries", async () => {
    const { admin } = await setupProject();
    const query = fc.record(
      {
        period: fc.oneof(fc.constantFrom("1d", "7d", "30d", "90d", "current_month", "ytd", "all"), fc.string()),
        eventId: fc.oneof(fc.constant("purchase_completed"), fc.string({ maxLength: 200 })),
        timeframe: fc.oneof(fc.constant("month"), fc.string()),
        month: fc.oneof(
          fc.integer({ min: 0, max: 99999 }).map((y) => `${y}-12`),
          farDate.map((d) => d.slice(0, 7)),
          fc.string(),
        ),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(query, async (q) => {
        const res = await api("GET", `/v1/stats/event?${new URLSearchParams(q as Record<string, string>)}`, { auth: admin });
        expect(res.status, res.text.slice(0, 300)).toBeLessThan(500);
      }),
      { numRuns: 150 },
    );
  });

  it("batch items", async () => {
    const { admin } = await setupProject();
    const item = fc.oneof(
      hostileJson,
      fc.record(
        {
          eventId: fc.oneof(fc.constant("purchase_completed"), fc.string()),
          userId: fc.oneof(fc.constant("alice"), fc.string({ maxLength: 400 })),
          metadata: fc.oneof(fc.record({ amount: fc.oneof(fc.double(), fc.constant(1e16), fc.integer()) }), hostileJson),
          timestamp: farDate,
          idempotencyKey: fc.string({ maxLength: 300 }),
        },
        { requiredKeys: [] },
      ),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(item, { minLength: 1, maxLength: 20 }), async (events) => {
        const res = await api<BatchResponseBody>("POST", "/v1/events/batch", { auth: admin, rawBody: JSON.stringify({ events }) });
        expect(res.status, res.text.slice(0, 300)).toBeLessThan(500);
        if (res.status === 200) for (const result of res.json.results) expect(result.statusCode).toBeLessThan(500);
      }),
      { numRuns: 60 },
    );
  });
});
