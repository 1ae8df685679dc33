import { z } from "@hono/zod-openapi";

/** A caller's id for a user, wherever it names one (a token's `sub`, a path, a body): 1-255 characters of any kind. */
export const UserIdSchema = z.string().min(1).max(255);

/** The same where a route names the user in its path or the token exchange's body, with the reference's example. */
export const UserIdParamSchema = UserIdSchema.openapi({ example: "user-123" });
