/** Who is calling. Every read and write is scoped to `projectKey`; only `user` principals are bound to one user. */
export type Principal =
  | { kind: "user"; projectKey: string; userId: string }
  | { kind: "admin"; projectKey: string; userId: string }
  | { kind: "apiKey"; projectKey: string; apiKeyId: string };

export const hasServerRights = (p: Principal): boolean => p.kind !== "user";

export const PROJECT_KEY_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
