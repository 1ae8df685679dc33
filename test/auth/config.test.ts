import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createApp } from "../../src/app";
import type { ErrorEnvelope } from "../../src/http/errors";
import { adminToken, newProject } from "../helpers";

afterEach(() => vi.restoreAllMocks());

async function callWith(overrides: Partial<Env>): Promise<{ status: number; body: ErrorEnvelope }> {
  const request = new Request("http://api.test/v1/event", { headers: { authorization: `Bearer ${await adminToken(newProject())}` } });
  const response = await createApp().fetch(request, { ...env, ...overrides });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : {}) as ErrorEnvelope };
}

describe("root auth configuration", () => {
  it.each([
    [{ JWT_MAX_TTL_SECONDS: "one hour" }, "JWT_MAX_TTL_SECONDS"],
    [{ JWT_MAX_TTL_SECONDS: "-5" }, "JWT_MAX_TTL_SECONDS"],
    [{ JWT_SECRET: "short-secret" }, "JWT_SECRET"],
    [{ JWT_SECRET: "" }, "JWT_SECRET"],
    [{ JWKS_URL: "http://idp.example/jwks.json" }, "JWKS_URL"],
  ] as const)("refuses %o loudly: a 500 envelope naming the setting, logged once", async (overrides, setting) => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const first = await callWith(overrides);
    expect(first.status).toBe(500);
    expect(first.body.message).toContain(setting);
    const second = await callWith(overrides);
    expect(second.status).toBe(500);
    expect(logged.mock.calls.filter((call) => String(call[0]).includes(setting)).length).toBe(1);
  });

  it("accepts a whole number of seconds and enforces it", async () => {
    expect((await callWith({ JWT_MAX_TTL_SECONDS: "7200" })).status).toBe(204); // no definitions yet
    expect((await callWith({ JWT_MAX_TTL_SECONDS: "60" })).status).toBe(401);
  });
});
