import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { api } from "../helpers";

/** A stand-in for the ASSETS binding: the files of a build, by URL path (404 for anything else, like Workers assets). */
function fakeAssets(files: Record<string, string>): Fetcher {
  const fetcher = {
    fetch: async (input: RequestInfo | URL) => {
      const path = new URL(input instanceof Request ? input.url : String(input)).pathname;
      const body = files[path];
      if (body === undefined) return new Response("not found", { status: 404 });
      return new Response(body, { headers: { "content-type": path.endsWith("/") ? "text/html" : "text/javascript" } });
    },
  };
  return fetcher as unknown as Fetcher;
}

const BUILD = {
  "/dashboard/": "<!doctype html><title>dashboard</title>",
  "/dashboard/assets/app.js": "console.log('app')",
  "/docs/scalar-api-reference.js": "window.Scalar = {}",
};

const app = createApp();
const request = (path: string, bindings: Partial<Env> = {}, init: RequestInit = {}) => app.request(`http://127.0.0.1${path}`, init, { ...env, ...bindings });

describe("the dashboard under /dashboard", () => {
  it("serves the build's files and answers deep links with the app's index.html", async () => {
    const assets = fakeAssets(BUILD);
    const file = await request("/dashboard/assets/app.js", { ASSETS: assets });
    expect(file.status).toBe(200);
    expect(await file.text()).toBe("console.log('app')");
    for (const deepLink of ["/dashboard/", "/dashboard/ledger", "/dashboard/events/purchase_completed"]) {
      const page = await request(deepLink, { ASSETS: assets });
      expect(page.status, deepLink).toBe(200);
      expect(page.headers.get("content-type"), deepLink).toContain("text/html");
      expect(await page.text(), deepLink).toContain("<title>dashboard</title>");
    }
  });

  it("redirects /dashboard to /dashboard/ and answers missing files and a missing build with the error envelope", async () => {
    const redirect = await request("/dashboard", { ASSETS: fakeAssets(BUILD) });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get("location")).toBe("/dashboard/");
    const missingFile = await request("/dashboard/assets/gone.js", { ASSETS: fakeAssets(BUILD) });
    expect(missingFile.status).toBe(404);
    expect(await missingFile.json()).toEqual({ statusCode: 404, message: "No dashboard file at /dashboard/assets/gone.js" });
    const notBuilt = await request("/dashboard/ledger", { ASSETS: fakeAssets({}) });
    expect(notBuilt.status).toBe(404);
    expect(await notBuilt.json()).toMatchObject({ statusCode: 404, message: expect.stringContaining("npm run dashboard:build") });
  });

  it("answers other methods with 405 like any route", async () => {
    const res = await request("/dashboard/ledger", { ASSETS: fakeAssets(BUILD) }, { method: "POST" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, HEAD");
  });

  it("offers the demo token only when npm run dev set it, and only on a loopback host", async () => {
    const configured = { DASHBOARD_DEMO_TOKEN: "demo-token-value" };
    expect(await (await request("/dashboard/demo-token", configured)).json()).toEqual({ token: "demo-token-value" });
    const elsewhere = await app.request("https://loyalty.example.com/dashboard/demo-token", {}, { ...env, ...configured });
    expect(await elsewhere.json()).toEqual({ token: null });
    // wrangler.toml keeps it empty: a deployed Worker never hands out a token.
    expect(env.DASHBOARD_DEMO_TOKEN).toBe("");
    expect(await (await request("/dashboard/demo-token")).json()).toEqual({ token: null });
  });

  it("hands the demo token to the dashboard's own origin only, and never answers /dashboard or /docs with CORS headers", async () => {
    const configured = { DASHBOARD_DEMO_TOKEN: "demo-token-value", CORS_ORIGINS: "*", ASSETS: fakeAssets(BUILD) };
    const crossOrigin: Record<string, string>[] = [
      { origin: "https://evil.example", "sec-fetch-site": "cross-site" },
      { origin: "http://localhost:5173", "sec-fetch-site": "same-site" },
      { origin: "http://127.0.0.1:9999" },
      { "sec-fetch-site": "cross-site" },
      { "sec-fetch-site": "same-site" },
    ];
    for (const headers of crossOrigin) {
      const res = await request("/dashboard/demo-token", configured, { headers });
      expect(res.status, JSON.stringify(headers)).toBe(200);
      expect(res.headers.get("access-control-allow-origin"), JSON.stringify(headers)).toBeNull();
      expect(await res.json(), JSON.stringify(headers)).toEqual({ token: null });
    }
    // A preflight gets no CORS answer either, so a browser never sends the real request.
    const preflight = await request("/dashboard/demo-token", configured, {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "GET" },
    });
    expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
    expect(preflight.headers.get("access-control-allow-methods")).toBeNull();
    for (const path of ["/dashboard/", "/dashboard/assets/app.js", "/docs", "/docs/scalar-api-reference.js"]) {
      const res = await request(path, configured, { headers: { origin: "https://evil.example" } });
      expect(res.status, path).toBe(200);
      expect(res.headers.get("access-control-allow-origin"), path).toBeNull();
    }

    // The dashboard's own fetch (Chromium sends Sec-Fetch-Site: same-origin, and an Origin equal to its own when any),
    // the address bar (none), and a request without browser headers get the token.
    const sameOrigin: Record<string, string>[] = [
      { "sec-fetch-site": "same-origin" },
      { origin: "http://127.0.0.1", "sec-fetch-site": "same-origin" },
      { "sec-fetch-site": "none" },
      {},
    ];
    for (const headers of sameOrigin) {
      const res = await request("/dashboard/demo-token", configured, { headers });
      expect(res.headers.get("access-control-allow-origin"), JSON.stringify(headers)).toBeNull();
      expect(await res.json(), JSON.stringify(headers)).toEqual({ token: "demo-token-value" });
    }

    // The API itself keeps its CORS headers.
    const api = await request("/health", configured, { headers: { origin: "https://evil.example" } });
    expect(api.headers.get("access-control-allow-origin")).toBe("*");
  });
});

describe("the API reference at /docs", () => {
  it("renders Scalar over /openapi.json with its script from this Worker, nothing from a CDN", async () => {
    const res = await api("GET", "/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(res.text).toContain('<script src="/docs/scalar-api-reference.js">');
    expect(res.text).toContain('"url": "/openapi.json"');
    expect(res.text).not.toMatch(/src="https?:/);
    expect(res.text).toMatch(/"agent": \{\s*"disabled": true/);
  });

  it("serves Scalar's bundle from the build", async () => {
    const res = await request("/docs/scalar-api-reference.js", { ASSETS: fakeAssets(BUILD) });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("window.Scalar = {}");
  });
});

describe("the API around them is unchanged", () => {
  it("keeps the JSON answers: 404 for unknown paths, 401 before anything under /v1, no UI paths in the OpenAPI document", async () => {
    expect((await api("GET", "/dashboards")).json).toEqual({ statusCode: 404, message: "No route for GET /dashboards" });
    expect((await api("GET", "/docs/other")).status).toBe(404);
    const underV1 = await api("GET", "/v1/dashboard/");
    expect(underV1.status).toBe(401);
    const document = await api<{ paths: Record<string, unknown> }>("GET", "/openapi.json");
    expect(Object.keys(document.json.paths).filter((path) => /dashboard|docs/.test(path))).toEqual([]);
    expect((await api("GET", "/health")).json).toEqual({ status: "ok" });
  });
});
