import { env } from "cloudflare:workers";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { verifyJwt } from "../../src/auth/jwt";
import { createApp } from "../../src/app";
import { api, newProject, setupProject, token } from "../helpers";
import { TEST_JWT_SECRET } from "../secret";

const b64url = (value: object | string) =>
  btoa(typeof value === "string" ? value : JSON.stringify(value))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
const nowSeconds = () => Math.floor(Date.now() / 1000);

describe("JWT verification", () => {
  const config = { secret: TEST_JWT_SECRET };

  it("accepts a valid HS256 token and maps its claims", async () => {
    const principal = await verifyJwt(await token({ sub: "u1", projectId: "demo", role: "admin" }), config);
    expect(principal).toEqual({ kind: "admin", projectKey: "demo", userId: "u1", root: true });
  });

  it.each([
    ["alg none", () => `${b64url({ alg: "none", typ: "JWT" })}.${b64url({ sub: "u1", projectId: "demo", role: "admin", exp: nowSeconds() + 600 })}.`],
    ["wrong secret", () => token({ sub: "u1", projectId: "demo", role: "admin" }, { secret: "another-secret-another-secret-123" })],
    ["expired beyond the 60 s leeway", () => token({ sub: "u1", projectId: "demo", role: "user" }, { expiresIn: nowSeconds() - 120 })],
    ["missing exp", () => token({ sub: "u1", projectId: "demo", role: "user" }, { expiresIn: null })],
    ["not yet valid beyond the leeway", () => token({ sub: "u1", projectId: "demo", role: "user" }, { notBefore: nowSeconds() + 600 })],
    [
      "issued in the future",
      () =>
        new SignJWT({ projectId: "demo", role: "user" })
          .setProtectedHeader({ alg: "HS256" })
          .setSubject("u1")
          .setIssuedAt(nowSeconds() + 600)
          .setExpirationTime(nowSeconds() + 1200)
          .sign(new TextEncoder().encode(TEST_JWT_SECRET)),
    ],
    ["missing projectId", () => token({ sub: "u1", role: "user" })],
    ["unknown role", () => token({ sub: "u1", projectId: "demo", role: "superuser" })],
    ["missing sub", () => token({ projectId: "demo", role: "user" })],
    ["garbage", async () => "not-a-jwt"],
  ])("rejects %s", async (_name, make) => {
    expect(await verifyJwt(await make(), config)).toBeNull();
  });

  it("honours the 60 s leeway on exp", async () => {
    const recentlyExpired = await token({ sub: "u1", projectId: "demo", role: "user" }, { expiresIn: nowSeconds() - 30 });
    expect(await verifyJwt(recentlyExpired, config)).not.toBeNull();
  });

  it("requires the configured issuer and audience", async () => {
    const strict = { ...config, issuer: "https://idp.test", audience: "loyalty" };
    const sign = (iss?: string, aud?: string) => {
      const jwt = new SignJWT({ projectId: "demo", role: "user" }).setProtectedHeader({ alg: "HS256" }).setSubject("u1").setExpirationTime("5m");
      if (iss) jwt.setIssuer(iss);
      if (aud) jwt.setAudience(aud);
      return jwt.sign(new TextEncoder().encode(TEST_JWT_SECRET));
    };
    expect(await verifyJwt(await sign("https://idp.test", "loyalty"), strict)).not.toBeNull();
    expect(await verifyJwt(await sign(undefined, "loyalty"), strict)).toBeNull();
    expect(await verifyJwt(await sign("https://other.test", "loyalty"), strict)).toBeNull();
    expect(await verifyJwt(await sign("https://idp.test", "other"), strict)).toBeNull();
  });

  it("rejects a tampered payload", async () => {
    const valid = await token({ sub: "u1", projectId: "demo", role: "user" });
    const [header, , signature] = valid.split(".");
    const forged = b64url({ sub: "u1", projectId: "demo", role: "admin", exp: nowSeconds() + 600 });
    expect(await verifyJwt(`${header}.${forged}.${signature}`, config)).toBeNull();
  });
});

describe("JWKS (RS256) tokens", () => {
  // A fresh URL per test: the verifier caches each JWKS endpoint's keys.
  let jwksUrl = "";
  afterEach(() => vi.restoreAllMocks());

  async function withJwks() {
    jwksUrl = `https://issuer.test/${crypto.randomUUID()}/jwks.json`;
    const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "RS256", use: "sig" };
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input) => {
      const url = input instanceof Request ? input.url : String(input);
      if (url === jwksUrl) return Response.json({ keys: [jwk] });
      throw new Error(`unexpected fetch ${url}`);
    });
    return { privateKey, jwk };
  }

  it("accepts an RS256 token signed by a JWKS key, only when JWKS_URL is configured", async () => {
    const { privateKey } = await withJwks();
    const rs256 = await new SignJWT({ projectId: "demo", role: "user" })
      .setProtectedHeader({ alg: "RS256", kid: "k1" })
      .setSubject("u1")
      .setExpirationTime("10m")
      .sign(privateKey);
    expect(await verifyJwt(rs256, { secret: TEST_JWT_SECRET, jwksUrl })).toEqual({ kind: "user", projectKey: "demo", userId: "u1" });
    expect(await verifyJwt(rs256, { secret: TEST_JWT_SECRET })).toBeNull();
  });

  it("rejects an HS256 token whose secret is the JWKS public key (algorithm confusion)", async () => {
    const { jwk } = await withJwks();
    for (const secret of [JSON.stringify(jwk), jwk.n!]) {
      const confused = await token({ sub: "u1", projectId: "demo", role: "admin" }, { secret });
      expect(await verifyJwt(confused, { secret: TEST_JWT_SECRET, jwksUrl })).toBeNull();
    }
  });

  it("serves a JWKS-signed request through the app", async () => {
    const { privateKey } = await withJwks();
    const { projectId } = await setupProject();
    const rs256 = await new SignJWT({ projectId, role: "admin" })
      .setProtectedHeader({ alg: "RS256", kid: "k1" })
      .setSubject("ops")
      .setExpirationTime("10m")
      .sign(privateKey);
    const request = new Request("http://api.test/v1/event/purchase_completed", { headers: { authorization: `Bearer ${rs256}` } });
    const response = await createApp().fetch(request, { ...env, JWKS_URL: jwksUrl });
    expect(response.status).toBe(200);
  });
});

describe("authentication on routes", () => {
  it("answers 401 in the envelope without or with a bad credential", async () => {
    for (const auth of [null, { bearer: "nope" }, { apiKey: "lek_unknown" }]) {
      const res = await api("GET", "/v1/event", { auth });
      expect(res.status).toBe(401);
      expect(res.json).toMatchObject({ statusCode: 401, message: expect.any(String) });
    }
    const malformed = await api("GET", "/v1/event", { headers: { authorization: "Basic abc" } });
    expect(malformed.status).toBe(401);
  });

  it("keeps /health and /openapi.json public", async () => {
    expect((await api("GET", "/health")).status).toBe(200);
    expect((await api("GET", "/openapi.json")).status).toBe(200);
  });

  it("answers 403 for a user token on admin routes", async () => {
    const projectId = newProject();
    const user = { bearer: await token({ sub: "u1", projectId, role: "user" }) };
    for (const [method, path, body] of [
      ["PUT", "/v1/admin/events/x", { title: "x", reward: { default: 1 } }],
      ["DELETE", "/v1/admin/events/x", undefined],
      ["PUT", "/v1/admin/users/u1", {}],
      ["GET", "/v1/admin/users/u1", undefined],
      ["POST", "/v1/admin/api-keys", { name: "k" }],
      ["GET", "/v1/admin/api-keys", undefined],
      ["POST", "/v1/events/batch", { events: [] }],
    ] as const) {
      const res = await api(method, path, { auth: user, body });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.json.statusCode).toBe(403);
    }
  });
});
