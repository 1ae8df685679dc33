import { grants, type Scope } from "../domain/scopes";
import { ApiError } from "../http/errors";

/**
 * Who is calling. Every read and write is scoped to `projectKey`; only `user` principals are bound to one user.
 * Admin tokens hold every scope of their project; `root` marks one signed with the deployment's own
 * credential (JWT_SECRET or JWKS_URL) rather than with one of the project's keys.
 */
export type Principal =
  | { kind: "user"; projectKey: string; userId: string }
  | { kind: "admin"; projectKey: string; userId: string; root: boolean }
  | {
      kind: "apiKey";
      projectKey: string;
      apiKeyId: string;
      scopes: readonly Scope[];
      /** The key's own bounds: credentials it creates may not outlive them. */
      expiresAt: string | null;
      allowedOrigins: readonly string[];
    };

export const hasServerRights = (p: Principal): boolean => p.kind !== "user";

/** True when a server principal may do what `scope` allows (user tokens hold no scope). */
export const holdsScope = (p: Principal, scope: Scope): boolean => p.kind === "admin" || (p.kind === "apiKey" && grants(p.scopes, scope));

/** The one answer to a user token that names another user (in a path, a query or a body) or another's account. */
export const actsOnlyForItself = (): ApiError => new ApiError(403, "A user token acts only for its own user");

/** A user token acts only for itself: 403 when `userId` is another user's. Admin tokens and API keys act for any. */
export function assertActsFor(principal: Principal, userId: string): void {
  if (principal.kind === "user" && principal.userId !== userId) throw actsOnlyForItself();
}
