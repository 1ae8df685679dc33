import { describe, expect, it } from "vitest";
import { MAX_CATALOGUE_BYTES, MAX_GAME_DEFINITIONS_PER_KIND } from "../../src/domain/limits";
import { api, loginDefinition, setupProject, type Credential } from "../helpers";

/** One valid body per kind of definition (every kind has a `timezone`). */
const bodies = {
  streaks: { title: "Logins", eventIds: ["login"], period: "day", goal: 7 },
  challenges: { title: "Three logins", eventIds: ["login"], metric: "count", target: 3, period: "week", rewardPoints: 10 },
  leaderboards: { title: "Weekly points", metric: "points", period: "week" },
} as const;
const collections = Object.keys(bodies) as Array<keyof typeof bodies>;

describe("definition time zones", () => {
  it.each(collections)("%s store the canonical IANA name however it was spelled", async (collection) => {
    const { admin } = await setupProject({ definitions: { login: loginDefinition } });
    for (const [spelled, canonical] of [
      ["europe/berlin", "Europe/Berlin"],
      ["EUROPE/BERLIN", "Europe/Berlin"],
      ["utc", "UTC"],
      ["Etc/UTC", "UTC"],
    ] as const) {
      const put = await api<{ timezone: string }>("PUT", `/v1/admin/${collection}/d1`, { auth: admin, body: { ...bodies[collection], timezone: spelled } });
      expect([200, 201], put.text).toContain(put.status);
      expect(put.json.timezone).toBe(canonical);
      expect((await api<{ timezone: string }>("GET", `/v1/admin/${collection}/d1`, { auth: admin })).json.timezone).toBe(canonical);
    }
  });

  it.each(collections)("%s refuse offsets, names without a region and unknown zones with 400 naming timezone", async (collection) => {
    const { admin } = await setupProject({ definitions: { login: loginDefinition } });
    for (const timezone of ["+05:30", "-08:00", "EST5EDT", "EST", "Mars/Olympus", ""]) {
      const res = await api("PUT", `/v1/admin/${collection}/d1`, { auth: admin, body: { ...bodies[collection], timezone } });
      expect(res.status, `${timezone}: ${res.text}`).toBe(400);
      expect(res.json.errors?.map((e) => e.path)).toEqual(["timezone"]);
    }
    expect((await api("GET", `/v1/admin/${collection}/d1`, { auth: admin })).status).toBe(404);
  });
});

describe("definition limits under concurrency", () => {
  it(`creates exactly ${MAX_GAME_DEFINITIONS_PER_KIND} of ${MAX_GAME_DEFINITIONS_PER_KIND + 50} concurrent leaderboards, and replaces at the limit`, async () => {
    const { admin } = await setupProject({ definitions: {} });
    const attempts = MAX_GAME_DEFINITIONS_PER_KIND + 50;
    const results = await Promise.all(
      Array.from({ length: attempts }, (_, n) => api("PUT", `/v1/admin/leaderboards/lb${n}`, { auth: admin, body: bodies.leaderboards })),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(MAX_GAME_DEFINITIONS_PER_KIND);
    expect(statuses.filter((s) => s === 400)).toHaveLength(attempts - MAX_GAME_DEFINITIONS_PER_KIND);
    for (const refused of results.filter((r) => r.status === 400)) {
      expect(refused.json.errors).toEqual([{ path: "leaderboardId", message: `a project may define at most ${MAX_GAME_DEFINITIONS_PER_KIND} leaderboards` }]);
    }
    const listed = await api<Array<{ leaderboardId: string }>>("GET", "/v1/admin/leaderboards", { auth: admin });
    expect(listed.json).toHaveLength(MAX_GAME_DEFINITIONS_PER_KIND);
    // At the limit: a replace still works, a new one is still refused, and other kinds have their own count.
    const kept = listed.json[0]!.leaderboardId;
    expect((await api("PUT", `/v1/admin/leaderboards/${kept}`, { auth: admin, body: { ...bodies.leaderboards, title: "Renamed" } })).status).toBe(200);
    expect((await api("PUT", "/v1/admin/leaderboards/one_more", { auth: admin, body: bodies.leaderboards })).status).toBe(400);
    expect((await api("PUT", "/v1/admin/streaks/s1", { auth: admin, body: bodies.streaks })).status).toBe(201);
  }, 30_000);
});

describe("the definitions catalogue in bytes", () => {
  /** An event definition whose stored document is `padding` bytes plus a constant. */
  const big = (padding: number, char = "x") => ({
    ...loginDefinition,
    conditions: { type: "AND", conditions: [{ field: "note", operator: "not_equals", value: char.repeat(padding) }] },
  });
  const put = (auth: Credential, path: string, body: unknown) => api("PUT", path, { auth, body });

  it(`holds a project's definitions to ${MAX_CATALOGUE_BYTES} bytes, on creation (413) and on replace (total - old + new)`, async () => {
    const { admin } = await setupProject({ definitions: {} });
    const padding = 60_000;
    // The stored document is the answer's JSON: its constant part, for ids of one length (big_00, big_01, ...).
    const first = await put(admin, "/v1/admin/events/big_00", big(padding));
    expect(first.status).toBe(201);
    const constant = first.text.length - padding;
    let total = first.text.length;
    let n = 1;
    while (total + constant + padding <= MAX_CATALOGUE_BYTES) {
      const res = await put(admin, `/v1/admin/events/big_${String(n++).padStart(2, "0")}`, big(padding));
      expect(res.status, res.text).toBe(201);
      total += res.text.length;
    }
    // Fill up to 10 bytes short of the bound.
    const last = await put(admin, `/v1/admin/events/big_${String(n).padStart(2, "0")}`, big(MAX_CATALOGUE_BYTES - total - constant - 10));
    expect(last.status, last.text).toBe(201);
    total += last.text.length;
    expect(total).toBe(MAX_CATALOGUE_BYTES - 10);

    // Nothing new fits, of any kind: 413 naming the body.
    for (const [path, body] of [
      ["/v1/admin/events/small", loginDefinition],
      ["/v1/admin/leaderboards/b1", bodies.leaderboards],
    ] as const) {
      const full = await put(admin, path, body);
      expect(full.status, full.text).toBe(413);
      expect(full.json.errors?.map((e) => e.path)).toEqual(["(root)"]);
      expect(full.json.message).toContain(String(MAX_CATALOGUE_BYTES));
    }
    // Replacing: the same size fits, 10 bytes more fills the bound exactly, one more byte does not.
    expect((await put(admin, "/v1/admin/events/big_00", big(padding, "y"))).status).toBe(200);
    expect((await put(admin, "/v1/admin/events/big_00", big(padding + 11))).status).toBe(413);
    expect((await put(admin, "/v1/admin/events/big_00", big(padding + 10))).status).toBe(200);
    // Shrinking one definition makes room for another.
    expect((await put(admin, "/v1/admin/events/big_01", big(padding - 1_000))).status).toBe(200);
    expect((await put(admin, "/v1/admin/leaderboards/b1", bodies.leaderboards)).status).toBe(201);
    const stored = await api<unknown[]>("GET", "/v1/event", { auth: admin });
    expect(stored.json.map((d) => (d as { eventId: string }).eventId)).not.toContain("small");
  }, 30_000);
});
