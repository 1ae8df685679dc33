import type { UserState } from "./user-state";

/**
 * The user's object as callers see it. Typed by hand because the generated RPC stub types map values
 * containing `unknown` (event metadata) to `never`; the methods are exactly UserState's.
 */
export type UserStateRpc = Pick<UserState, "register" | "logEvents" | "snapshot">;

/** The Durable Object that owns one user of one project. The name is unambiguous for any ids. */
export function userStateStub(env: Env, projectKey: string, userId: string): UserStateRpc {
  return env.USER_STATE.get(env.USER_STATE.idFromName(JSON.stringify([projectKey, userId]))) as unknown as UserStateRpc;
}
