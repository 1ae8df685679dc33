import { createRoute, type RouteConfig, type z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { requireScope } from "../auth/middleware";
import { MAX_BODY_BYTES } from "../domain/limits";
import type { Scope } from "../domain/scopes";
import type { AppEnv } from "./context";
import { ApiError, errorResponses } from "./errors";

/** A JSON response entry for a route's `responses`. */
export const jsonResponse = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

/** A required JSON request body for a route's `request.body`. */
export const jsonBody = <T extends z.ZodType>(schema: T) => ({ required: true, content: { "application/json": { schema } } });

/**
 * The security requirement of a route: a bearer token, or an API key holding `scope` (OpenAPI 3.1 lets any
 * scheme list the roles it needs; tools and the route table test read the scope from here).
 */
const credentialFor = (scope: Scope): Array<Record<string, string[]>> => [{ bearerAuth: [] }, { apiKey: [scope] }];

/**
 * A route's contract: `scope` is what an API key needs to call it; `maxBodyBytes` (default 64 KiB) bounds its
 * body, attached to this route alone.
 */
type RouteInput<P extends string> = Omit<RouteConfig, "path" | "security" | "middleware" | "operationId"> & {
  path: P;
  scope: Scope;
  /** Stable and camelCase: the typed client's method name (sdk/). */
  operationId: string;
  maxBodyBytes?: number;
};

const limitBody = (maxSize: number): MiddlewareHandler<AppEnv> =>
  bodyLimit({
    maxSize,
    onError: () => {
      throw new ApiError(413, `Request body is larger than ${maxSize} bytes`);
    },
  });

/**
 * Route middleware in order: rights and rate limits (after authentication), then the body limit. Every
 * route documents 429 (rate limits) and 503 (D1 or a user's object unavailable, through the shared error
 * handler); routes with a body document 413 and 415.
 */
function routeWith<P extends string, R extends RouteInput<P>>(config: R, usersAllowed: boolean, checks: MiddlewareHandler<AppEnv>[]) {
  const { maxBodyBytes = MAX_BODY_BYTES, scope, ...contract } = config;
  const hasBody = config.request?.body !== undefined;
  const rights = [requireScope(scope, usersAllowed), ...checks];
  const middleware = hasBody ? [...rights, limitBody(maxBodyBytes)] : rights;
  // Typed as the route's own responses: the added ones are error envelopes, which handlers throw, not return.
  const responses = { ...errorResponses(...(hasBody ? [403, 413, 415, 429, 503] : [403, 429, 503])), ...contract.responses } as typeof contract.responses;
  const who = usersAllowed ? "user tokens (for their own data), admin tokens, or" : "admin tokens, or";
  const description = [contract.description, `Credentials: ${who} API keys with the scope \`${scope}\`.`].filter(Boolean).join("\n\n");
  return createRoute({ ...contract, description, responses, security: credentialFor(scope), middleware });
}

/** A route any principal of the project may call (handlers check ownership where a user is named). */
export const principalRoute = <P extends string, R extends RouteInput<P>>(config: R, checks: MiddlewareHandler<AppEnv>[] = []) =>
  routeWith(config, true, checks);

/** A route for admin tokens and API keys only (403 for user tokens). */
export const serverRoute = <P extends string, R extends RouteInput<P>>(config: R) => routeWith(config, false, []);

/** The admin-route preset: server rights and the Admin tag. */
export const adminRoute = <P extends string, R extends Omit<RouteInput<P>, "tags">>(config: R) => serverRoute({ ...config, tags: ["Admin"] });
