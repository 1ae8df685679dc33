import { grants, type Scope } from "../domain/scopes";

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
export const holdsScope = (p: Principal, scope: Scope): boolean =>
  p.kind === "admin" || (p.kind === "apiKey" && grants(p.scopes, scope));

export const PROJECT_KEY_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
