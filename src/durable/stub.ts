import type { UserState } from "./user-state";

/**
 * The user's object as callers see it. Typed by hand because the generated RPC stub types map values
 * containing `unknown` (event metadata) to `never`; the methods are exactly UserState's.
 */
export type UserStateRpc = Pick<
  UserState,
  | "register"
  | "importMember"
  | "logEvents"
  | "snapshot"
  | "standing"
  | "adjust"
  | "boardScore"
  | "resolveStats"
  | "importStatsSeed"
  | "ledgerPage"
  | "ledgerEntry"
  | "fillLedger"
  | "redeem"
  | "reverseRedemption"
  | "pointsHistory"
>;

/** The name of the Durable Object that owns one user of one project; unambiguous for any ids. */
export const userStateName = (projectKey: string, userId: string): string => JSON.stringify([projectKey, userId]);

export function userStateStub(env: Pick<Env, "USER_STATE">, projectKey: string, userId: string): UserStateRpc {
  return env.USER_STATE.get(env.USER_STATE.idFromName(userStateName(projectKey, userId))) as unknown as UserStateRpc;
}
