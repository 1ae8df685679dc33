import { createRoute, type RouteConfig, type z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { requireServerRights } from "../auth/middleware";
import { MAX_BODY_BYTES } from "../domain/limits";
import type { AppEnv } from "./context";
import { ApiError, errorResponses } from "./errors";

/** A JSON response entry for a route's `responses`. */
export const jsonResponse = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

/** A required JSON request body for a route's `request.body`. */
export const jsonBody = <T extends z.ZodType>(schema: T) => ({ required: true, content: { "application/json": { schema } } });

/** Security requirement for routes that accept either credential. */
export const anyCredential: Array<Record<string, string[]>> = [{ bearerAuth: [] }, { apiKey: [] }];

/** A route's contract; `maxBodyBytes` (default 64 KiB) bounds its body, attached to this route alone. */
type RouteInput<P extends string> = Omit<RouteConfig, "path" | "security" | "middleware"> & { path: P; maxBodyBytes?: number };

const limitBody = (maxSize: number): MiddlewareHandler<AppEnv> =>
  bodyLimit({
    maxSize,
    onError: () => {
      throw new ApiError(413, `Request body is larger than ${maxSize} bytes`);
    },
  });

/**
 * Route middleware in order: rights and rate limits (after authentication), then the body limit. Every
 * route documents 429 (rate limits); routes with a body document 413 and 415.
 */
function routeWith<P extends string, R extends RouteInput<P>>(config: R, checks: MiddlewareHandler<AppEnv>[]) {
  const { maxBodyBytes = MAX_BODY_BYTES, ...contract } = config;
  const hasBody = config.request?.body !== undefined;
  const middleware = hasBody ? [...checks, limitBody(maxBodyBytes)] : checks;
  // Typed as the route's own responses: the added ones are error envelopes, which handlers throw, not return.
  const responses = { ...errorResponses(...(hasBody ? [413, 415, 429] : [429])), ...contract.responses } as typeof contract.responses;
  return createRoute({ ...contract, responses, security: anyCredential, middleware });
}

/** A route any principal of the project may call (handlers check ownership where a user is named). */
export const principalRoute = <P extends string, R extends RouteInput<P>>(config: R, checks: MiddlewareHandler<AppEnv>[] = []) =>
  routeWith(config, checks);

/** A route for admin tokens and API keys only (403 for user tokens). */
export const serverRoute = <P extends string, R extends RouteInput<P>>(config: R) => routeWith(config, [requireServerRights]);

/** The admin-route preset: server rights and the Admin tag. */
export const adminRoute = <P extends string, R extends Omit<RouteInput<P>, "tags">>(config: R) =>
  serverRoute({ ...config, tags: ["Admin"] });
