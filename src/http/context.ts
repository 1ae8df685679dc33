import type { Principal } from "../auth/principal";

/** The Hono environment every route shares. */
export type AppEnv = { Bindings: Env; Variables: { principal: Principal } };
