import { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { authenticate } from "./auth/middleware";
import type { AppEnv } from "./http/context";
import { MAX_BATCH_BODY_BYTES, MAX_BODY_BYTES } from "./domain/limits";
import { ApiError, envelope } from "./http/errors";
import { adminDeadLettersRoutes } from "./routes/admin-dead-letters";
import { adminEventsRoutes } from "./routes/admin-events";
import { adminUsersRoutes } from "./routes/admin-users";
import { apiKeysRoutes } from "./routes/api-keys";
import { eventLogRoutes } from "./routes/event-log";
import { eventsRoutes } from "./routes/events";
import { statsRoutes } from "./routes/stats";


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

export function createApp() {
  const app = new OpenAPIHono<AppEnv>({ getPath: versionedPath });

  app.onError((error, c) => {
    if (error instanceof ApiError) return c.json(error.toEnvelope(), error.status);
    if (error instanceof HTTPException) {
      const message = error.status === 400 && /json/i.test(error.message) ? "Invalid JSON body" : error.message;
      return c.json(envelope(error.status, message || "Request failed"), error.status);
    }
    console.error("unhandled error", error);
    return c.json(envelope(500, "Internal server error"), 500);
  });
  app.notFound((c) => c.json(envelope(404, `No route for ${c.req.method} ${new URL(c.req.url).pathname}`), 404));

  const limitTo = (maxSize: number) =>
    bodyLimit({ maxSize, onError: (c) => c.json(envelope(413, `Request body is larger than ${maxSize} bytes`), 413) });
  const singleLimit = limitTo(MAX_BODY_BYTES);
  const batchLimit = limitTo(MAX_BATCH_BODY_BYTES);
  app.use("*", (c, next) => (c.req.path.endsWith("/events/batch") ? batchLimit : singleLimit)(c, next));

  app.get("/health", (c) => c.json({ status: "ok" }));

  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description: "HS256 (JWT_SECRET) or RS256/ES256 (JWKS_URL); claims sub, projectId, role (user|admin), exp",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "apiKey", { type: "apiKey", in: "header", name: "X-API-Key" });
  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "Loyalty Events & Analytics API",
      version: "1.0.0",
      description: "Paths are also served under /v0, /v2 and /v3. Errors use the envelope {statusCode, message, errors}.",
    },
  });

  app.use("/v1/*", authenticate);
  return app
    .route("/v1", eventsRoutes)
    .route("/v1", eventLogRoutes)
    .route("/v1", adminEventsRoutes)
    .route("/v1", adminUsersRoutes)
    .route("/v1", apiKeysRoutes)
    .route("/v1", statsRoutes)
    .route("/v1", adminDeadLettersRoutes);
}

/** The API's type, for a typed client: `hc<AppType>(baseUrl)` from `hono/client`. */
export type AppType = ReturnType<typeof createApp>;
