import { Scalar } from "@scalar/hono-api-reference";
import { Hono, type Context } from "hono";
import type { AppEnv } from "../http/context";
import { ApiError } from "../http/errors";

/**
 * What the Worker serves besides the API: the dashboard (a single-page app under /dashboard, built by
 * `npm run dashboard:build` into dashboard/dist and read through the ASSETS binding) and the interactive API
 * reference at /docs (Scalar, its script served from the same assets: nothing is loaded from a CDN).
 * Nothing here is under /v1, so the API's paths, authentication and error answers are untouched.
 */

/** Where the build puts the files, mirroring their URLs: /dashboard/* and /docs/scalar-api-reference.js. */
export const DASHBOARD_PATH = "/dashboard";
export const SCALAR_SCRIPT_PATH = "/docs/scalar-api-reference.js";

const NOT_BUILT = "The dashboard is not built: run `npm run dashboard:build` (npm run dev does it)";

/** Hostnames of a local dev server; the demo token is never handed out to any other. */
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/**
 * False when a browser says the request comes from another site or origin: an `Origin` header other than the
 * request's own origin, or `Sec-Fetch-Site` other than `same-origin` (the dashboard's fetch) or `none` (typed into
 * the address bar). Requests without either header (curl, a test) are not a browser's cross-origin request.
 */
function isSameOrigin(headers: Headers, ownOrigin: string): boolean {
  const origin = headers.get("origin");
  if (origin !== null && origin !== ownOrigin) return false;
  const site = headers.get("sec-fetch-site");
  return site === null || site === "same-origin" || site === "none";
}

/** A file of the build, or null when there is no such file (or no build at all). */
async function assetAt(c: Context<AppEnv>, path: string, conditional: boolean): Promise<Response | null> {
  const assets = c.env.ASSETS as Fetcher | undefined;
  if (!assets) return null;
  const url = new URL(c.req.url);
  url.pathname = path;
  // Conditional headers (If-None-Match) only for the file the URL names, so a 304 always means "that file".
  const headers = conditional ? c.req.raw.headers : { accept: c.req.header("accept") ?? "*/*" };
  const response = await assets.fetch(new Request(url, { headers, method: c.req.method }));
  return response.status === 404 ? null : response;
}

/** A path without a file extension is a page of the app (a deep link); the app's index.html renders it. */
const isAppPage = (path: string) => !/\.[A-Za-z0-9]+$/.test(path.slice(path.lastIndexOf("/") + 1));

async function serveDashboard(c: Context<AppEnv>): Promise<Response> {
  const path = c.req.path;
  const file = await assetAt(c, path, true);
  if (file) return file;
  if (isAppPage(path)) {
    const index = await assetAt(c, `${DASHBOARD_PATH}/`, false);
    if (index) return new Response(index.body, { status: 200, headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-cache" } });
    throw new ApiError(404, NOT_BUILT);
  }
  throw new ApiError(404, `No dashboard file at ${path}`);
}

export const uiRoutes = new Hono<AppEnv>()
  .get(DASHBOARD_PATH, (c) => c.redirect(`${DASHBOARD_PATH}/`, 302))
  // Local dev only: the admin token `npm run dev` printed (it passes it as the DASHBOARD_DEMO_TOKEN var), on a
  // loopback host and to the dashboard's own pages only; otherwise `{"token": null}` (a 200, so the sign-in page's
  // check logs no error). /dashboard/* never carries CORS headers either (see the CORS middleware in app.ts).
  .get(`${DASHBOARD_PATH}/demo-token`, (c) => {
    const configured = c.env.DASHBOARD_DEMO_TOKEN;
    const url = new URL(c.req.url);
    const token = configured && LOOPBACK_HOSTS.has(url.hostname) && isSameOrigin(c.req.raw.headers, url.origin) ? configured : null;
    return c.json({ token }, 200, { "cache-control": "no-store" });
  })
  .get(`${DASHBOARD_PATH}/*`, serveDashboard)
  .get(
    "/docs",
    Scalar({
      url: "/openapi.json",
      cdn: SCALAR_SCRIPT_PATH,
      pageTitle: "Loyalty Events API reference",
      withDefaultFonts: false,
      telemetry: false,
      showDeveloperTools: "never",
      // The agent (AI chat) reaches Scalar's servers; the reference works without it and loads nothing from outside.
      agent: { disabled: true },
      authentication: { preferredSecurityScheme: "bearerAuth" },
    }),
  )
  .get(SCALAR_SCRIPT_PATH, async (c) => {
    const file = await assetAt(c, SCALAR_SCRIPT_PATH, true);
    if (!file) throw new ApiError(404, NOT_BUILT);
    return file;
  });
