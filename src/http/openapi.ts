import { createRoute, type RouteConfig, type z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { requireServerRights } from "../auth/middleware";
import type { AppEnv } from "./context";

/** A JSON response entry for a route's `responses`. */
export const jsonResponse = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

/** A required JSON request body for a route's `request.body`. */
export const jsonBody = <T extends z.ZodType>(schema: T) => ({ required: true, content: { "application/json": { schema } } });

/** Security requirement for routes that accept either credential. */
export const anyCredential: Array<Record<string, string[]>> = [{ bearerAuth: [] }, { apiKey: [] }];

type RouteInput<P extends string> = Omit<RouteConfig, "path" | "security" | "middleware"> & { path: P };

const routeWith = <P extends string, R extends RouteInput<P>>(config: R, middleware: MiddlewareHandler<AppEnv>[]) =>
  createRoute({ ...config, security: anyCredential, middleware });

/** A route any principal of the project may call (handlers check ownership where a user is named). */
export const principalRoute = <P extends string, R extends RouteInput<P>>(config: R) => routeWith(config, []);

/** A route for admin tokens and API keys only (403 for user tokens). */
export const serverRoute = <P extends string, R extends RouteInput<P>>(config: R) => routeWith(config, [requireServerRights]);

/** The admin-route preset: server rights and the Admin tag. */
export const adminRoute = <P extends string, R extends Omit<RouteInput<P>, "tags">>(config: R) =>
  serverRoute({ ...config, tags: ["Admin"] });
