import { env } from "cloudflare:workers";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createApp } from "../../src/app";
import type { CreatedSigningKeyBody, SigningKeyBody } from "../../src/routes/signing-keys";
import type { UserTokenBody } from "../../src/routes/auth-tokens";
import { api, apiKeyWith, setupProject, token, type Credential } from "../helpers";
import { TEST_JWT_SECRET } from "../secret";

/** A token signed with a project signing key: `kid` in the header, the secret's UTF-8 bytes as the HMAC key. */
function signedWith(key: { kid: string; secret: string }, claims: Record<string, unknown>, expiresIn: string | number = "1h") {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256", kid: key.kid })
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(key.secret));
}

async function newSigningKey(admin: Credential) {
  const res = await api<CreatedSigningKeyBody>("POST", "/v1/admin/signing-keys", { auth: admin, body: { name: "backend" } });
  expect(res.status, res.text).toBe(201);
  return res.json;
}

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe("project signing keys", () => {
  it("creates a key shown once, lists it without its secret, and stores only a ciphertext", async () => {
    const { admin, projectId } = await setupProject();
    const key = await newSigningKey(admin);
    expect(key).toMatchObject({ kid: expect.stringMatching(/^sk_/), name: "backend", secret: expect.stringMatching(/^lsk_/) });
    const listed = await api<SigningKeyBody[]>("GET", "/v1/admin/signing-keys", { auth: admin });
    expect(listed.json).toEqual([{ kid: key.kid, name: "backend", createdAt: key.createdAt }]);
    const stored = await env.DB.prepare("SELECT * FROM signing_keys WHERE id = ?").bind(key.kid).first<Record<string, string>>();
    expect(stored?.project_key).toBe(projectId);
    expect(JSON.stringify(stored)).not.toContain(key.secret);
    expect(JSON.stringify(stored)).not.toContain(key.secret.slice(4, 20));
  });

  it("acts only in the key's project: a token naming another project is refused", async () => {
    const a = await setupProject();
    const b = await setupProject();
    const key = await newSigningKey(a.admin);
    const inA = { bearer: await signedWith(key, { sub: "ops", role: "admin" }) };
    expect((await api("GET", "/v1/event/purchase_completed", { auth: inA })).status).toBe(200);
    expect((await api("GET", "/v1/admin/users/alice", { auth: inA })).status).toBe(200);

    const claimingB = { bearer: await signedWith(key, { sub: "ops", role: "admin", projectId: b.projectId }) };
    expect((await api("GET", "/v1/event/purchase_completed", { auth: claimingB })).status).toBe(401);
    const namingA = { bearer: await signedWith(key, { sub: "ops", role: "admin", projectId: a.projectId }) };
    expect((await api("GET", "/v1/event/purchase_completed", { auth: namingA })).status).toBe(200);
    // The secret is not the root secret's equal: without the kid it verifies as nothing.
    const withoutKid = await new SignJWT({ sub: "ops", role: "admin", projectId: a.projectId })
      .setProtectedHeader({ alg: "HS256" })
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode(key.secret));
    expect((await api("GET", "/v1/event", { auth: { bearer: withoutKid } })).status).toBe(401);
  });

  it("signs user tokens that act for their own user only", async () => {
    const { admin } = await setupProject({ users: { alice: [], bob: [] } });
    const key = await newSigningKey(admin);
    const alice = { bearer: await signedWith(key, { sub: "alice", role: "user" }) };
    expect((await api("GET", "/v1/users/alice", { auth: alice })).status).toBe(200);
    expect((await api("GET", "/v1/users/bob", { auth: alice })).status).toBe(403);
    expect((await api("GET", "/v1/admin/users/alice", { auth: alice })).status).toBe(403);
  });

  it("refuses a token with another key's kid, a forged kid, or a tampered secret", async () => {
    const { admin } = await setupProject();
    const key = await newSigningKey(admin);
    const other = await newSigningKey(admin);
    const crossed = await signedWith({ kid: other.kid, secret: key.secret }, { sub: "ops", role: "admin" });
    const forged = await signedWith({ kid: "sk_AAAAAAAAAAAAAAAAAAAAAA", secret: key.secret }, { sub: "ops", role: "admin" });
    for (const bearer of [crossed, forged]) expect((await api("GET", "/v1/event", { auth: { bearer } })).status).toBe(401);
  });

  it("stops a revoked key's tokens at once here, and within 30 s in an isolate that had it cached", async () => {
    const { admin } = await setupProject();
    const key = await newSigningKey(admin);
    const bearer = await signedWith(key, { sub: "ops", role: "admin" });
    expect((await api("GET", "/v1/event", { auth: { bearer } })).status).toBe(200);
    expect((await api("DELETE", `/v1/admin/signing-keys/${key.kid}`, { auth: admin })).status).toBe(204);
    expect((await api("GET", "/v1/event", { auth: { bearer } })).status).toBe(401);
    expect((await api("DELETE", `/v1/admin/signing-keys/${key.kid}`, { auth: admin })).status).toBe(404);

    // Another isolate: the revocation reaches D1 only; the key stays cached there until the cache expires.
    const second = await newSigningKey(admin);
    const secondBearer = await signedWith(second, { sub: "ops", role: "admin" });
    expect((await api("GET", "/v1/event", { auth: { bearer: secondBearer } })).status).toBe(200);
    await env.DB.prepare("UPDATE signing_keys SET revoked_at = ? WHERE id = ?").bind(new Date().toISOString(), second.kid).run();
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + 31_000 });
    expect((await api("GET", "/v1/event", { auth: { bearer: secondBearer } })).status).toBe(401);
  });

  it("cannot be managed by a user token or a key without the admin scope", async () => {
    const { admin, projectId } = await setupProject();
    const keysKey = await apiKeyWith(admin, ["keys:manage", "definitions:write"]);
    const user = { bearer: await token({ sub: "alice", projectId, role: "user" }) };
    for (const auth of [user, { apiKey: keysKey.apiKey }]) {
      expect((await api("POST", "/v1/admin/signing-keys", { auth, body: { name: "x" } })).status).toBe(403);
      expect((await api("GET", "/v1/admin/signing-keys", { auth })).status).toBe(403);
    }
  });

  it("keeps at most 10 active keys per project, also when created at once", async () => {
    const { admin } = await setupProject();
    const results = await Promise.all(Array.from({ length: 14 }, () => api("POST", "/v1/admin/signing-keys", { auth: admin, body: { name: "k" } })));
    expect(results.filter((r) => r.status === 201)).toHaveLength(10);
    expect(results.filter((r) => r.status === 409)).toHaveLength(4);
    expect((await api<SigningKeyBody[]>("GET", "/v1/admin/signing-keys", { auth: admin })).json).toHaveLength(10);
  });
});

describe("the project's own identity provider", () => {
  async function provider() {
    const jwksUrl = `https://idp.test/${crypto.randomUUID()}/.well-known/jwks.json`;
    const issuer = `https://idp.test/${crypto.randomUUID()}/`;
    const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: "idp-1", alg: "RS256", use: "sig" };
    let fetches = 0;
    let body: string = JSON.stringify({ keys: [jwk] });
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input) => {
      const url = input instanceof Request ? input.url : String(input);
      if (url !== jwksUrl) throw new Error(`unexpected fetch ${url}`);
      fetches += 1;
      return new Response(body, { headers: { "content-type": "application/json" } });
    });
    const sign = (claims: Record<string, unknown>, options: { iss?: string; aud?: string } = {}) => {
      const jwt = new SignJWT(claims)
        .setProtectedHeader({ alg: "RS256", kid: "idp-1" })
        .setIssuer(options.iss ?? issuer)
        .setExpirationTime("10m");
      if (options.aud) jwt.setAudience(options.aud);
      return jwt.sign(privateKey);
    };
    return { jwksUrl, issuer, sign, fetches: () => fetches, serve: (next: string) => (body = next) };
  }

  it("accepts the provider's tokens as user tokens of the configured project, whatever their claims say", async () => {
    const a = await setupProject({ users: { alice: [], bob: [] } });
    const b = await setupProject({ users: { alice: [] } });
    const idp = await provider();
    const put = await api("PUT", "/v1/admin/project/auth", { auth: a.admin, body: { jwksUrl: idp.jwksUrl, issuer: idp.issuer } });
    expect(put.status, put.text).toBe(200);
    expect(put.json).toMatchObject({ jwksUrl: idp.jwksUrl, issuer: idp.issuer, audience: null, userIdClaim: "sub" });

    // A claim that names project B and the admin role changes nothing: the token is alice's, in A, as a user.
    const alice = { bearer: await idp.sign({ sub: "alice", projectId: b.projectId, role: "admin" }) };
    const own = await api<{ userId: string }>("GET", "/v1/users/alice", { auth: alice });
    expect(own.status, own.text).toBe(200);
    expect((await api("GET", "/v1/users/bob", { auth: alice })).status).toBe(403);
    expect((await api("GET", "/v1/admin/users/alice", { auth: alice })).status).toBe(403);
    const logged = await api("POST", "/v1/event", { auth: alice, body: { eventId: "purchase_completed", userId: "alice", metadata: { amount: 10 } } });
    expect(logged.status, logged.text).toBe(200);
    expect(idp.fetches()).toBe(1);

    // Another issuer is not this provider; a token signed by it falls to the root check and fails.
    const stranger = { bearer: await idp.sign({ sub: "alice" }, { iss: "https://elsewhere.test/" }) };
    expect((await api("GET", "/v1/users/alice", { auth: stranger })).status).toBe(401);
  });

  it("takes the user id from the configured claim and checks the audience", async () => {
    const { admin } = await setupProject({ users: { "u-42": [] } });
    const idp = await provider();
    const body = { jwksUrl: idp.jwksUrl, issuer: idp.issuer, audience: "loyalty", userIdClaim: "uid" };
    expect((await api("PUT", "/v1/admin/project/auth", { auth: admin, body })).status).toBe(200);
    const good = { bearer: await idp.sign({ sub: "auth0|x", uid: "u-42" }, { aud: "loyalty" }) };
    expect((await api("GET", "/v1/users/u-42", { auth: good })).status).toBe(200);
    const otherAudience = { bearer: await idp.sign({ sub: "auth0|x", uid: "u-42" }, { aud: "another-app" }) };
    expect((await api("GET", "/v1/users/u-42", { auth: otherAudience })).status).toBe(401);
    const noClaim = { bearer: await idp.sign({ sub: "u-42" }, { aud: "loyalty" }) };
    expect((await api("GET", "/v1/users/u-42", { auth: noClaim })).status).toBe(401);
  });

  it("refuses a key set larger than 64 KiB", async () => {
    const { admin } = await setupProject({ users: { alice: [] } });
    const idp = await provider();
    idp.serve(JSON.stringify({ keys: [], padding: "x".repeat(70 * 1024) }));
    expect((await api("PUT", "/v1/admin/project/auth", { auth: admin, body: { jwksUrl: idp.jwksUrl, issuer: idp.issuer } })).status).toBe(200);
    expect((await api("GET", "/v1/users/alice", { auth: { bearer: await idp.sign({ sub: "alice" }) } })).status).toBe(401);
  });

  it("gives an issuer to one project only, whatever the audience, and validates the configuration", async () => {
    const a = await setupProject();
    const b = await setupProject();
    const idp = await provider();
    expect((await api("PUT", "/v1/admin/project/auth", { auth: a.admin, body: { jwksUrl: idp.jwksUrl, issuer: idp.issuer } })).status).toBe(200);
    for (const body of [
      { jwksUrl: idp.jwksUrl, issuer: idp.issuer },
      { jwksUrl: idp.jwksUrl, issuer: idp.issuer, audience: "shop-api" },
    ]) {
      const taken = await api("PUT", "/v1/admin/project/auth", { auth: b.admin, body });
      expect(taken.status).toBe(409);
      expect(taken.json.errors?.[0]?.path).toBe("issuer");
    }
    // A's users' tokens, whatever audience they carry, act in A only.
    const alice = { bearer: await idp.sign({ sub: "alice" }, { aud: "shop-api" }) };
    expect((await api("GET", "/v1/users/alice", { auth: alice })).status).toBe(200);

    const insecure = await api("PUT", "/v1/admin/project/auth", { auth: a.admin, body: { jwksUrl: "http://idp.test/jwks", issuer: idp.issuer } });
    expect(insecure.status).toBe(400);
    expect(insecure.json.errors?.[0]?.path).toBe("jwksUrl");

    expect((await api("DELETE", "/v1/admin/project/auth", { auth: a.admin })).status).toBe(204);
    expect((await api("GET", "/v1/admin/project/auth", { auth: a.admin })).status).toBe(404);
    // Removing the provider ends its tokens at once in this isolate, though one was verified a moment ago.
    expect((await api("GET", "/v1/users/alice", { auth: alice })).status).toBe(401);
    // Now the issuer is free for B.
    expect((await api("PUT", "/v1/admin/project/auth", { auth: b.admin, body: { jwksUrl: idp.jwksUrl, issuer: idp.issuer } })).status).toBe(200);
  });

  it("never lets a project take the deployment's own issuer or key set", async () => {
    const { projectId } = await setupProject();
    const idp = await provider();
    const app = createApp();
    const configured = { ...env, JWT_ISSUER: idp.issuer, JWKS_URL: idp.jwksUrl };
    const put = (body: unknown) =>
      app.fetch(
        new Request("http://api.test/v1/admin/project/auth", {
          method: "PUT",
          headers: { authorization: `Bearer ${adminBearer}`, "content-type": "application/json" },
          body: JSON.stringify(body),
        }),
        configured,
      );
    const adminBearer = await new SignJWT({ projectId, role: "admin" })
      .setProtectedHeader({ alg: "HS256" })
      .setIssuer(idp.issuer)
      .setSubject("ops")
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode(TEST_JWT_SECRET));
    const sameIssuer = await put({ jwksUrl: "https://evil.test/jwks.json", issuer: idp.issuer });
    expect(sameIssuer.status).toBe(400);
    expect(((await sameIssuer.json()) as { errors: Array<{ path: string }> }).errors[0]?.path).toBe("issuer");
    const sameKeys = await put({ jwksUrl: idp.jwksUrl, issuer: "https://other.test/" });
    expect(sameKeys.status).toBe(400);
  });

  it("refuses a token longer than 8 KiB before verifying it", async () => {
    const { admin } = await setupProject();
    const key = await newSigningKey(admin);
    const huge = { bearer: await signedWith(key, { sub: "ops", role: "admin", padding: "x".repeat(9 * 1024) }) };
    expect((await api("GET", "/v1/event", { auth: huge })).status).toBe(401);
  });
});

describe("token exchange", () => {
  it("mints a user token for one user of the key's project", async () => {
    const { admin, projectId } = await setupProject({ users: { alice: [], bob: [] } });
    const minter = await apiKeyWith(admin, ["tokens:mint"]);
    const before = Date.now();
    const minted = await api<UserTokenBody>("POST", "/v1/auth/tokens", { auth: minter, body: { userId: "alice" } });
    expect(minted.status, minted.text).toBe(200);
    const expiresAt = Date.parse(minted.json.expiresAt);
    expect(expiresAt).toBeGreaterThanOrEqual(before + 3_599_000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 3_601_000);

    const alice = { bearer: minted.json.token };
    expect((await api("GET", "/v1/users/alice", { auth: alice })).status).toBe(200);
    const logged = await api("POST", "/v1/event", { auth: alice, body: { eventId: "purchase_completed", userId: "alice", metadata: { amount: 5 } } });
    expect(logged.status).toBe(200);
    expect((await api("POST", "/v1/event", { auth: alice, body: { eventId: "purchase_completed", userId: "bob", metadata: { amount: 5 } } })).status).toBe(403);
    expect((await api("GET", "/v1/users/bob", { auth: alice })).status).toBe(403);
    expect((await api("GET", "/v1/admin/users/alice", { auth: alice })).status).toBe(403);
    expect((await api("POST", "/v1/auth/tokens", { auth: alice, body: { userId: "bob" } })).status).toBe(403);
    // The key's project only: the token names it and no other.
    const other = await setupProject({ users: { alice: [] } });
    expect((await api("GET", "/v1/event", { auth: alice })).status).toBe(200);
    expect(other.projectId).not.toBe(projectId);
  });

  it("needs the tokens:mint scope and bounds the lifetime", async () => {
    const { admin } = await setupProject({ users: { alice: [] } });
    const logger = await apiKeyWith(admin, ["events:log"]);
    const refused = await api("POST", "/v1/auth/tokens", { auth: logger, body: { userId: "alice" } });
    expect(refused.status).toBe(403);
    expect(refused.json.message).toContain("tokens:mint");
    const minter = await apiKeyWith(admin, ["tokens:mint"]);
    const tooLong = await api("POST", "/v1/auth/tokens", { auth: minter, body: { userId: "alice", ttlSeconds: 24 * 3600 + 1 } });
    expect(tooLong.status).toBe(400);
    expect(tooLong.json.errors?.[0]?.path).toBe("ttlSeconds");
    const day = await api<UserTokenBody>("POST", "/v1/auth/tokens", { auth: minter, body: { userId: "alice", ttlSeconds: 24 * 3600 } });
    expect(day.status).toBe(200);
  });

  it("caps the lifetime at JWT_MAX_TTL_SECONDS, so minted tokens always verify", async () => {
    const { admin } = await setupProject({ users: { alice: [] } });
    const minter = await apiKeyWith(admin, ["tokens:mint"]);
    const app = createApp();
    const configured = { ...env, JWT_MAX_TTL_SECONDS: "600" };
    const call = (path: string, init: RequestInit) => app.fetch(new Request(`http://api.test${path}`, init), configured);
    const minted = await call("/v1/auth/tokens", {
      method: "POST",
      headers: { "x-api-key": minter.apiKey, "content-type": "application/json" },
      body: JSON.stringify({ userId: "alice", ttlSeconds: 7200 }),
    });
    const body = (await minted.json()) as UserTokenBody;
    expect(Date.parse(body.expiresAt) - Date.now()).toBeLessThanOrEqual(600_000);
    expect((await call("/v1/users/alice", { headers: { authorization: `Bearer ${body.token}` } })).status).toBe(200);
  });
});

describe("made-up project credentials", () => {
  it("cost no D1 query once the client IP is over its failure limit", async () => {
    const { instrumentedD1 } = await import("../helpers");
    const d1 = instrumentedD1();
    const app = createApp();
    const ip = `203.0.113.${Math.floor(Math.random() * 250) + 1}`;
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) {
      const kid = `sk_${crypto.randomUUID().replace(/-/g, "").slice(0, 22)}`;
      const bearer = await signedWith({ kid, secret: "x".repeat(40) }, { sub: "ops", role: "admin" });
      const response = await app.fetch(new Request("http://api.test/v1/event", { headers: { authorization: `Bearer ${bearer}`, "cf-connecting-ip": ip } }), {
        ...env,
        DB: d1.db,
      });
      statuses.push(response.status);
    }
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    // Each unknown kid below the limit costs one lookup; past it, none.
    expect(d1.calls()).toBeLessThanOrEqual(statuses.filter((s) => s === 401).length);
    expect(d1.calls()).toBeLessThan(40);
  });
});
