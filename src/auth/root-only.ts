import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../http/context";
import { ApiError } from "../http/errors";

/** What the operator's routes (/v1/operator/...) say of who may call them, in the OpenAPI document. */
export const ROOT_ONLY =
  "Only the deployment's root credentials: an admin token signed with JWT_SECRET (or from JWKS_URL), for any project. A project's own admin tokens and API keys get 403, whatever their scopes.";

/**
 * The operator's routes take only the deployment's root credentials, never a project's own (whatever its
 * scopes). Checked before anything else of the route (its scope, its input).
 */
export const requireRoot = createMiddleware<AppEnv>(async (c, next) => {
  const principal = c.get("principal");
  if (principal.kind !== "admin" || !principal.root) {
    throw new ApiError(
      403,
      `This route needs the deployment's root credentials (an admin token signed with JWT_SECRET or JWKS_URL); project credentials may not call it, even with the "admin" scope`,
    );
  }
  await next();
});
