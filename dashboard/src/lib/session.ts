import type { Credential } from "../api/client";

/** The signed-in credential lives in sessionStorage: it is gone when the tab closes, and sign-out removes it. */
const STORAGE_KEY = "loyalty-dashboard.credential";

/** A JWT is three base64url parts; anything else pasted is taken as a server API key. */
export const credentialFrom = (pasted: string): Credential => {
  const value = pasted.trim();
  return /^[\w-]+\.[\w-]+\.[\w-]+$/.test(value) ? { kind: "bearer", token: value } : { kind: "apiKey", key: value };
};

export function loadCredential(): Credential | null {
  const stored = sessionStorage.getItem(STORAGE_KEY);
  if (!stored) return null;
  try {
    const parsed = JSON.parse(stored) as Partial<Credential> & { token?: unknown; key?: unknown };
    if (parsed.kind === "bearer" && typeof parsed.token === "string") return { kind: "bearer", token: parsed.token };
    if (parsed.kind === "apiKey" && typeof parsed.key === "string") return { kind: "apiKey", key: parsed.key };
  } catch {
    // a damaged entry signs out
  }
  sessionStorage.removeItem(STORAGE_KEY);
  return null;
}

export const saveCredential = (credential: Credential) => sessionStorage.setItem(STORAGE_KEY, JSON.stringify(credential));
export const clearCredential = () => sessionStorage.removeItem(STORAGE_KEY);

/** Who a credential speaks for, for the header: the JWT's claims (read, not verified: the API verifies), or "API key". */
export function describeCredential(credential: Credential): string {
  if (credential.kind === "apiKey") return `API key ${credential.key.slice(0, 8)}…`;
  try {
    const payload = credential.token.split(".")[1] ?? "";
    const claims = JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/"))) as { sub?: unknown; projectId?: unknown; role?: unknown };
    return `${String(claims.sub)} (${String(claims.role)}) · project ${String(claims.projectId)}`;
  } catch {
    return "token";
  }
}
