import { describe, expect, it } from "vitest";
import { api, instrumentedD1, purchaseDefinition, setupProject, userToken, type Credential } from "../helpers";
import { purchase } from "../routes/log-helpers";

describe("rate limits", () => {
  it("answers 429 with Retry-After once a user token floods the log route, and never below the limit", async () => {
    const { projectId } = await setupProject({ definitions: { purchase_completed: { ...purchaseDefinition, limit: 1000 } } });
    const user: Credential = { bearer: await userToken(projectId, "alice") };
    // The limiter's windows are aligned to the clock: 50 calls stay under a limit of 100 in any window...
    const under = await Promise.all(Array.from({ length: 50 }, () => api("POST", "/v1/event", { auth: user, body: purchase("alice") })));
    expect(under.map((r) => r.status)).toEqual(Array(50).fill(200));
    // ...and 201 more calls, even if they straddle a window boundary, must exceed it.
    const flood = await Promise.all(Array.from({ length: 201 }, () => api("POST", "/v1/event", { auth: user, body: purchase("alice") })));
    const limited = flood.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(limited[0]!.headers.get("retry-after")).toBe("10");
    expect(limited[0]!.json).toMatchObject({ statusCode: 429 });
    expect(flood.every((r) => r.status === 200 || r.status === 429)).toBe(true);
  });

  it("limits failed authentication per client IP, and unknown API keys cannot buy a D1 query each", async () => {
    await setupProject();
    const d1 = instrumentedD1();
    const ip = `203.0.113.${Math.floor(Math.random() * 250)}`;
    const attempt = (headers: Record<string, string>) => api("GET", "/v1/event", { headers: { "cf-connecting-ip": ip, ...headers }, env: { DB: d1.db } });
    const statuses: number[] = [];
    for (let i = 0; i < 70; i++) statuses.push((await attempt({ "x-api-key": `lek_${crypto.randomUUID()}` })).status);
    expect(statuses).toContain(429);
    expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
    // At most one window's allowance (30) of lookups, even across a window boundary (60).
    expect(d1.calls()).toBeLessThanOrEqual(60);
    const limited = await attempt({ authorization: "Bearer not-a-jwt" });
    if (limited.status === 429) expect(limited.headers.get("retry-after")).toBe("10");
    else expect(limited.status).toBe(401);

    // The same wrong key again and again is answered from memory.
    const other = instrumentedD1();
    const key = `lek_${crypto.randomUUID()}`;
    for (let i = 0; i < 10; i++) await api("GET", "/v1/event", { headers: { "x-api-key": key }, env: { DB: other.db } });
    expect(other.calls()).toBe(1);
  });
});
