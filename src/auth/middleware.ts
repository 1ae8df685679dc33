import { createMiddleware } from "hono/factory";
import { getDb } from "../db/client";
import { findActiveApiKey } from "../db/api-keys";
import { ApiError } from "../http/errors";
import type { AppEnv } from "../http/context";
import { verifyJwt } from "./jwt";
import { hasServerRights } from "./principal";

/** Resolves `Authorization: Bearer <JWT>` or `X-API-Key` into the request's principal; anything else is 401. */
export const authenticate = createMiddleware<AppEnv>(async (c, next) => {
  const apiKey = c.req.header("x-api-key");
  const authorization = c.req.header("authorization");
  if (apiKey !== undefined) {
    const key = await findActiveApiKey(getDb(c.env.DB), apiKey.trim());
    if (!key) throw new ApiError(401, "Invalid or revoked API key");
    c.set("principal", { kind: "apiKey", projectKey: key.projectKey, apiKeyId: key.id });
  } else if (authorization !== undefined) {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
    if (!match?.[1]) throw new ApiError(401, "Authorization header must be 'Bearer <token>'");
    const principal = await verifyJwt(match[1], {
      secret: c.env.JWT_SECRET,
      jwksUrl: c.env.JWKS_URL,
      issuer: c.env.JWT_ISSUER,
      audience: c.env.JWT_AUDIENCE,
    });
    if (!principal) throw new ApiError(401, "Invalid or expired token");
    c.set("principal", principal);
  } else {
    throw new ApiError(401, "Missing credentials: send 'Authorization: Bearer <JWT>' or 'X-API-Key'");
  }
  await next();
});

/** Admin routes: an admin token or an API key of the project. */
export const requireServerRights = createMiddleware<AppEnv>(async (c, next) => {
  if (!hasServerRights(c.get("principal"))) throw new ApiError(403, "This route needs an admin token or an API key");
  await next();
});
