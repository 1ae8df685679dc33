import { z } from "@hono/zod-openapi";

/** A project's key (tokens' `projectId`): also a path segment of R2 keys, so a small safe alphabet. */
export const PROJECT_KEY_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
export const PROJECT_KEY_RULE = "must be 1-64 letters, digits, '_', '.' or '-'";

/** The `{projectKey}` path parameter of the operator's routes. */
export const ProjectKeyParamsSchema = z.object({
  projectKey: z.string().regex(PROJECT_KEY_PATTERN, PROJECT_KEY_RULE).openapi({ example: "acme-shop" }),
});
