import { createMiddleware } from "hono/factory";
import type { Principal } from "../auth/principal";
import { getDb, type Db } from "../db/client";

/**
 * The Hono environment every route shares. `db` is the request's D1 through drizzle (`db.$client` is the raw
 * binding, for the modules of src/db that write SQL by hand); `principal` is who calls (src/auth/middleware.ts).
 */
export type AppEnv = { Bindings: Env; Variables: { db: Db; principal: Principal } };

/** Sets `c.var.db` for what runs after it: the drizzle of this request's D1 binding (one per binding, src/db/client.ts). */
export const provideDb = createMiddleware<AppEnv>(async (c, next) => {
  c.set("db", getDb(c.env.DB));
  await next();
});
