import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ApiKeyBody, CreatedApiKeyBody } from "../../src/routes/api-keys";
import { sha256Hex } from "../../src/domain/hashing";
import type { ErrorEnvelope } from "../../src/http/errors";
import { api, apiKeyWith, setupProject, token } from "../helpers";

type OpenApiDocument = { paths: Record<string, Record<string, { security?: Array<Record<string, string[]>> }>> };

afterEach(() => vi.useRealTimers());

const purchase = (userId: string) => ({ eventId: "purchase_completed", userId, metadata: { amount: 10 } });

describe("API key scopes", () => {
  it("gives a log-only key 403 naming the scope on every route that needs another (every route of the OpenAPI document)", async () => {
    const { admin } = await setupProject({ users: { alice: [] } });
    const logOnly = await apiKeyWith(admin, ["events:log"]);
    const doc = (await api<OpenApiDocument>("GET", "/openapi.json")).json;
    const routes = Object.entries(doc.paths).flatMap(([path, operations]) =>
      Object.entries(operations).map(([method, operation]) => ({
        method: method.toUpperCase(),
        path: path.replace(/\{[^}]+\}/g, (name) => (name === "{id}" && path.startsWith("/v1/loyalty-events") ? "1" : "x")),
        scope: operation.security?.find((requirement) => "apiKey" in requirement)?.apiKey?.[0],
      })),
    );
    expect(routes.length).toBeGreaterThan(30);
    for (const route of routes) {
      expect(route.scope, `${route.method} ${route.path} names its scope`).toMatch(/^[a-z]+(:[a-z]+)?$/);
      const res = await api(route.method, route.path, { auth: logOnly, body: route.method === "GET" || route.method === "DELETE" ? undefined : {} });
      if (route.scope === "events:log") {
        expect(res.status, `${route.method} ${route.path}`).not.toBe(403);
      } else {
        expect(res.status, `${route.method} ${route.path}: ${res.text}`).toBe(403);
        expect(res.json.message).toContain(`"${route.scope}"`);
      }
    }
    expect((await api("POST", "/v1/event", { auth: logOnly, body: purchase("alice") })).status).toBe(200);
  });

  it("lets only admin tokens and keys:manage keys see or touch keys, never granting or revoking more than they hold", async () => {
    const { admin, projectId } = await setupProject();
    const full = await apiKeyWith(admin, ["admin"]);
    const logOnly = await apiKeyWith(admin, ["events:log"]);
    const manager = await apiKeyWith(admin, ["keys:manage", "events:log", "stats:read"]);
    const user = { bearer: await token({ sub: "alice", projectId, role: "user" }) };
    for (const auth of [logOnly, user]) {
      expect((await api("GET", "/v1/admin/api-keys", { auth })).status).toBe(403);
      expect((await api("POST", "/v1/admin/api-keys", { auth, body: { name: "x", scopes: ["events:log"] } })).status).toBe(403);
      expect((await api("DELETE", `/v1/admin/api-keys/${full.id}`, { auth })).status).toBe(403);
    }

    const listed = await api<ApiKeyBody[]>("GET", "/v1/admin/api-keys", { auth: manager });
    expect(listed.status).toBe(200);
    expect(listed.json.map((k) => k.id).sort()).toEqual([full.id, logOnly.id, manager.id].sort());

    const escalate = await api("POST", "/v1/admin/api-keys", { auth: manager, body: { name: "x", scopes: ["events:log", "admin"] } });
    expect(escalate.status).toBe(403);
    expect(escalate.json.errors?.[0]).toEqual({ path: "scopes", message: expect.stringContaining("admin") });
    expect((await api("POST", "/v1/admin/api-keys", { auth: manager, body: { name: "x", scopes: ["ledger:read"] } })).status).toBe(403);
    const narrower = await api<CreatedApiKeyBody>("POST", "/v1/admin/api-keys", { auth: manager, body: { name: "stats", scopes: ["stats:read"] } });
    expect(narrower.status).toBe(201);
    expect(narrower.json.scopes).toEqual(["stats:read"]);

    // It may revoke what it could have made, not a key holding more than it does.
    expect((await api("DELETE", `/v1/admin/api-keys/${full.id}`, { auth: manager })).status).toBe(403);
    expect((await api("DELETE", `/v1/admin/api-keys/${narrower.json.id}`, { auth: manager })).status).toBe(204);
    expect((await api("DELETE", `/v1/admin/api-keys/${logOnly.id}`, { auth: manager })).status).toBe(204);
    expect((await api("GET", "/v1/event", { auth: { apiKey: full.apiKey } })).status).toBe(200);
  });

  it("refuses unknown scopes, an empty list, bad origins and a past expiry, naming the field", async () => {
    const { admin } = await setupProject();
    for (const [body, field] of [
      [{ name: "x", scopes: ["events:write"] }, "scopes.0"],
      [{ name: "x", scopes: [] }, "scopes"],
      [{ name: "x" }, "scopes"],
      [{ name: "x", scopes: ["admin"], allowedOrigins: ["https://shop.example/path"] }, "allowedOrigins.0"],
      [{ name: "x", scopes: ["admin"], expiresAt: "2020-01-01T00:00:00Z" }, "expiresAt"],
    ] as const) {
      const res = await api("POST", "/v1/admin/api-keys", { auth: admin, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.json.errors?.[0]?.path).toBe(field);
    }
  });

  it("keeps full rights for keys made before scopes existed (the migration's default)", async () => {
    const { admin, projectId } = await setupProject({ users: { alice: [] } });
    // A row as the old schema wrote it: only the columns it had.
    const oldKey = `lek_${crypto.randomUUID().replace(/-/g, "")}`;
    await env.DB.prepare("INSERT INTO api_keys (id, project_key, name, key_hash, key_prefix) VALUES (?, ?, 'old', ?, ?)")
      .bind(crypto.randomUUID(), projectId, await sha256Hex(oldKey), oldKey.slice(0, 12))
      .run();
    const auth = { apiKey: oldKey };
    expect((await api("GET", "/v1/admin/users/alice", { auth })).status).toBe(200);
    expect((await api("GET", "/v1/admin/api-keys", { auth })).status).toBe(200);
    expect((await api("POST", "/v1/admin/signing-keys", { auth, body: { name: "k" } })).status).toBe(201);
    const listed = await api<ApiKeyBody[]>("GET", "/v1/admin/api-keys", { auth: admin });
    expect(listed.json.find((k) => k.name === "old")?.scopes).toEqual(["admin"]);
  });
});

describe("keys never hand on more than they hold", () => {
  it("gives a key created by an expiring, origin-bound key no later expiry and no other origins", async () => {
    const { admin } = await setupProject();
    const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
    const bounded = await apiKeyWith(admin, ["keys:manage", "events:log", "admin"], { allowedOrigins: ["https://shop.example"], expiresAt });
    const fromShop = { origin: "https://shop.example" };
    const create = (body: Record<string, unknown>) =>
      api<CreatedApiKeyBody & ErrorEnvelope>("POST", "/v1/admin/api-keys", {
        auth: bounded,
        headers: fromShop,
        body: { name: "child", scopes: ["events:log"], ...body },
      });

    const inherited = await create({});
    expect(inherited.status).toBe(201);
    expect(inherited.json).toMatchObject({ expiresAt, allowedOrigins: ["https://shop.example"] });
    const later = await create({ expiresAt: new Date(Date.now() + 7_200_000).toISOString() });
    expect(later.status).toBe(403);
    expect(later.json.errors?.[0]?.path).toBe("expiresAt");
    const elsewhere = await create({ allowedOrigins: ["https://evil.example"] });
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.json.errors?.[0]?.path).toBe("allowedOrigins");
    // Signing keys and identity providers never expire: a bounded key may not create them.
    expect((await api("POST", "/v1/admin/signing-keys", { auth: bounded, headers: fromShop, body: { name: "k" } })).status).toBe(403);
    // An admin token may create anything.
    expect((await api("POST", "/v1/admin/api-keys", { auth: admin, body: { name: "free", scopes: ["events:log"] } })).status).toBe(201);
  });
});

describe("API key origins, expiry and last use", () => {
  it("answers a browser key only from its allowed origins (Origin, else Referer)", async () => {
    const { admin } = await setupProject({ users: { alice: [] } });
    const widget = await apiKeyWith(admin, ["events:log"], { allowedOrigins: ["https://shop.example"] });
    const log = (headers: Record<string, string>) => api("POST", "/v1/event", { auth: widget, body: purchase("alice"), headers });
    expect((await log({ origin: "https://shop.example" })).status).toBe(200);
    expect((await log({ referer: "https://shop.example/checkout?step=2" })).status).toBe(200);
    const foreign = await log({ origin: "https://evil.example" });
    expect(foreign.status).toBe(403);
    expect(foreign.json.errors?.[0]?.path).toBe("Origin");
    expect((await log({ origin: "https://evil.example", referer: "https://shop.example/" })).status).toBe(403);
    expect((await log({ origin: "http://shop.example" })).status).toBe(403);
    expect((await log({})).status).toBe(403);
    // A server key (no origins) is not bound.
    const server = await apiKeyWith(admin, ["events:log"]);
    expect((await api("POST", "/v1/event", { auth: server, body: purchase("alice"), headers: { origin: "https://evil.example" } })).status).toBe(200);
  });

  it("stops an expired key at its expiry, also while it is cached", async () => {
    const { admin } = await setupProject();
    const expiresAt = new Date(Date.now() + 60_000).toISOString();
    const key = await apiKeyWith(admin, ["events:read"], { expiresAt });
    expect((await api("GET", "/v1/event", { auth: key })).status).toBe(200);
    vi.useFakeTimers({ toFake: ["Date"], now: Date.parse(expiresAt) + 1 });
    const expired = await api("GET", "/v1/event", { auth: key });
    expect(expired.status).toBe(401);
    expect(expired.json.message).toContain("expired");
  });

  it("records the last use to the minute", async () => {
    const { admin } = await setupProject();
    const key = await apiKeyWith(admin, ["events:read"]);
    const before = (await api<ApiKeyBody[]>("GET", "/v1/admin/api-keys", { auth: admin })).json.find((k) => k.id === key.id);
    expect(before?.lastUsedAt).toBeNull();
    expect((await api("GET", "/v1/event", { auth: key })).status).toBe(200);
    await vi.waitFor(async () => {
      const after = (await api<ApiKeyBody[]>("GET", "/v1/admin/api-keys", { auth: admin })).json.find((k) => k.id === key.id);
      expect(after?.lastUsedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00\.000Z$/);
      expect(Date.now() - Date.parse(after!.lastUsedAt!)).toBeLessThan(120_000);
    });
  });
});
