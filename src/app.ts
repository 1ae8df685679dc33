import { OpenAPIHono } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import { TrieRouter } from "hono/router/trie-router";
import { authenticate } from "./auth/middleware";
import { limitProjectReads } from "./auth/rate-limits";
import { provideDb, type AppEnv } from "./http/context";
import { ApiError, envelope, isStorageOutage, STORAGE_RETRY_AFTER_SECONDS } from "./http/errors";
import { documentWebhookEvents, WEBHOOK_EVENTS_TAG } from "./http/webhook-docs";
import { benchSnapshot, isTracing } from "./lib/bench-trace";
import { TtlCache } from "./lib/ttl-cache";
import { adminDeadLettersRoutes } from "./routes/admin-dead-letters";
import { adminReconciliationRoutes } from "./routes/admin-reconciliation";
import { adminEventsRoutes } from "./routes/admin-events";
import { adminChallengesRoutes, adminLeaderboardsRoutes, adminStreaksRoutes } from "./routes/admin-game-definitions";
import { adminUsersRoutes } from "./routes/admin-users";
import { analyticsRoutes } from "./routes/analytics";
import { archiveRoutes } from "./routes/archive";
import { apiKeysRoutes } from "./routes/api-keys";
import { authTokensRoutes } from "./routes/auth-tokens";
import { eventLogRoutes } from "./routes/event-log";
import { eventsRoutes } from "./routes/events";
import { leaderboardsRoutes } from "./routes/leaderboards";
import { loyaltyEventsRoutes } from "./routes/loyalty-events";
import { pointsRoutes } from "./routes/points";
import { projectAuthRoutes } from "./routes/project-auth";
import { projectSettingsRoutes } from "./routes/project-settings";
import { quotaRoutes } from "./routes/quotas";
import { signingKeysRoutes } from "./routes/signing-keys";
import { statsRoutes } from "./routes/stats";
import { tiersRoutes } from "./routes/tiers";
import { usersRoutes } from "./routes/users";
import { webhooksRoutes } from "./routes/webhooks";
import { uiRoutes } from "./ui/routes";

/** /v0, /v2 and /v3 are served by the /v1 routes; any other /vN falls through to 404. */
export function versionedPath(request: Request): string {
  const url = request.url;
  const start = url.indexOf("/", url.indexOf("://") + 3);
  const queryAt = url.indexOf("?", start);
  const path = start === -1 ? "/" : url.slice(start, queryAt === -1 ? undefined : queryAt);
  const match = /^\/v(\d+)(?=\/|$)/.exec(path);
  if (!match || match[1] === "1") return path;
  return ["0", "2", "3"].includes(match[1]!) ? `/v1${path.slice(match[0].length)}` : `/unsupported-version${path}`;
}

/** The OpenAPI document's tags, each with what its routes are for. */
const OPENAPI_TAGS = [
  { name: "Events", description: "Event definitions and logging events for users (the write path)." },
  { name: "Users", description: "A user's points profile (balance, tier, expiring points, streaks, challenges), redemptions and points history." },
  { name: "Analytics", description: "Statistics of logged events and streak analytics." },
  { name: "Leaderboards", description: "Standings of a leaderboard's periods and one user's rank." },
  { name: "Ledger", description: "The loyalty-events ledger: every logged event in the loyalty-events shape, and reward adjustments." },
  { name: "Auth", description: "Token exchange: a user token for an app, minted with an API key." },
  { name: "Admin", description: "A project's definitions, users, credentials, dead letters, reconciliation, usage and archive." },
  { name: "Operator", description: "What only the deployment's root credential may do: a project's quotas and settings." },
  WEBHOOK_EVENTS_TAG,
];

/** Headers browsers may send and read; see CORS_ORIGINS in wrangler.toml. */
const CORS_ALLOW_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key", "X-API-Key"];
const CORS_EXPOSE_HEADERS = ["Idempotent-Replayed", "Retry-After", "X-Total-Count", "X-Total-Count-Capped", "Link"];

/** `CORS_ORIGINS`: "*" or a comma-separated list of origins. */
function corsOrigin(configured: string): string | ((origin: string) => string | null) {
  const origins = configured
    .split(",")
    .map((o) => o.trim())
    .filter(Boolean);
  if (origins.length === 0 || origins.includes("*")) return "*";
  return (origin) => (origins.includes(origin) ? origin : null);
}

/** Methods registered for a path (matched like the router does), for 405 answers and their Allow header. */
function allowedMethods(routes: ReadonlyArray<{ method: string; path: string }>) {
  let router: TrieRouter<string> | null = null;
  return (path: string): string[] => {
    if (!router) {
      router = new TrieRouter<string>();
      for (const route of routes) if (route.method !== "ALL") router.add("ALL", route.path, route.method);
    }
    const methods = new Set(router.match("ALL", path)[0].map(([method]) => method));
    if (methods.has("GET")) methods.add("HEAD");
    return [...methods].sort();
  };
}

export function createApp() {
  const app = new OpenAPIHono<AppEnv>({ getPath: versionedPath });
  const methodsFor = allowedMethods(app.routes);

  app.onError((error, c) => {
    if (error instanceof ApiError) return c.json(error.toEnvelope(), error.status, error.headers);
    if (error instanceof HTTPException) {
      const message = error.status === 400 && /json/i.test(error.message) ? "Invalid JSON body" : error.message;
      return c.json(envelope(error.status, message || "Request failed"), error.status);
    }
    if (isStorageOutage(error)) {
      console.error("storage unavailable", error);
      return c.json(envelope(503, "Storage is temporarily unavailable; retry later"), 503, { "Retry-After": String(STORAGE_RETRY_AFTER_SECONDS) });
    }
    console.error("unhandled error", error);
    return c.json(envelope(500, "Internal server error"), 500);
  });
  app.notFound((c) => {
    const methods = methodsFor(versionedPath(c.req.raw));
    if (methods.length > 0 && !methods.includes(c.req.method)) {
      return c.json(envelope(405, `${c.req.method} is not allowed here; allowed: ${methods.join(", ")}`), 405, { Allow: methods.join(", ") });
    }
    return c.json(envelope(404, `No route for ${c.req.method} ${new URL(c.req.url).pathname}`), 404);
  });

  // Before authentication, so that a browser's preflight (which carries no credentials) gets its 204.
  const corsFor = new TtlCache<string, MiddlewareHandler>(4, 3_600_000);
  app.use("*", async (c, next) => {
    // The dashboard and the API reference (/dashboard, /dashboard/*, /docs, /docs/*) are pages of this Worker,
    // not API: no CORS headers, ever (the demo token under /dashboard must not be readable from another origin).
    if (/^\/(dashboard|docs)(\/|$)/.test(c.req.path)) return next();
    const configured = c.env.CORS_ORIGINS ?? "*";
    let handler = corsFor.get(configured);
    if (!handler) {
      handler = cors({
        origin: corsOrigin(configured),
        allowMethods: ["GET", "POST", "PUT", "DELETE", "OPTIONS"],
        allowHeaders: CORS_ALLOW_HEADERS,
        exposeHeaders: CORS_EXPOSE_HEADERS,
        maxAge: 86_400,
      });
      corsFor.set(configured, handler);
    }
    return handler(c, next);
  });

  app.get("/health", (c) => c.json({ status: "ok" }));
  // The benchmark harness's counters (BENCH_TRACE=1 only; they hold no tenant data).
  app.get("/__bench", (c) =>
    isTracing(c.env) ? c.json(benchSnapshot(c.req.query("reset") === "1")) : c.json(envelope(404, "No route for GET /__bench"), 404),
  );

  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description:
      "A token signed by the deployment (HS256 with JWT_SECRET, RS256/ES256 with JWKS_URL; claims sub, projectId, role user|admin, exp), by one of the project's signing keys (HS256, header kid; claims sub, role, exp), or by the project's own identity provider (RS256/ES256, verified against its JWKS; a user token). POST /v1/auth/tokens exchanges an API key for a user token.",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "apiKey", {
    type: "apiKey",
    in: "header",
    name: "X-API-Key",
    description: "A project API key. Each route lists the scope a key needs in its security requirement; `admin` holds every scope.",
  });
  documentWebhookEvents(app);
  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "Loyalty Events & Analytics API",
      version: "1.0.0",
      description: "Paths are also served under /v0, /v2 and /v3. Errors use the envelope {statusCode, message, errors}.",
      // OpenAPI 3.1's SPDX `identifier` (the generator's types know only 3.0's license object).
      license: { name: "Proprietary", identifier: "LicenseRef-Proprietary" } as { name: string },
    },
    // Relative: the deployment that serves this document (tools call the API where they found it).
    servers: [{ url: "/", description: "The deployment serving this document" }],
    tags: OPENAPI_TAGS,
  });

  // The dashboard (/dashboard/*) and the API reference (/docs): outside /v1, not part of AppType.
  app.route("/", uiRoutes);

  app.use("/v1/*", provideDb);
  app.use("/v1/*", authenticate);
  app.use("/v1/*", limitProjectReads);
  return app
    .route("/v1", eventsRoutes)
    .route("/v1", eventLogRoutes)
    .route("/v1", adminEventsRoutes)
    .route("/v1", adminUsersRoutes)
    .route("/v1", apiKeysRoutes)
    .route("/v1", signingKeysRoutes)
    .route("/v1", projectAuthRoutes)
    .route("/v1", authTokensRoutes)
    .route("/v1", statsRoutes)
    .route("/v1", adminDeadLettersRoutes)
    .route("/v1", adminReconciliationRoutes)
    .route("/v1", adminStreaksRoutes)
    .route("/v1", adminChallengesRoutes)
    .route("/v1", adminLeaderboardsRoutes)
    .route("/v1", analyticsRoutes)
    .route("/v1", usersRoutes)
    .route("/v1", leaderboardsRoutes)
    .route("/v1", loyaltyEventsRoutes)
    .route("/v1", quotaRoutes)
    .route("/v1", archiveRoutes)
    .route("/v1", webhooksRoutes)
    .route("/v1", projectSettingsRoutes)
    .route("/v1", tiersRoutes)
    .route("/v1", pointsRoutes);
}

/** The API's type, for a typed client: `hc<AppType>(baseUrl)` from `hono/client`. */
export type AppType = ReturnType<typeof createApp>;
