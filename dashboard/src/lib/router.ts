import { useEffect, useState } from "preact/hooks";

/** The dashboard's pages live under /dashboard/ (Vite's base); the Worker answers every such path with the app. */
export const BASE = "/dashboard";

/** The path inside the app: `/dashboard/ledger` → `/ledger`. */
const appPath = () => {
  const path = window.location.pathname.startsWith(BASE) ? window.location.pathname.slice(BASE.length) : "/";
  return path === "" ? "/" : path;
};

const listeners = new Set<() => void>();
window.addEventListener("popstate", () => {
  for (const notify of listeners) notify();
});

/** Goes to a page of the app (a path like `/events/new`), adding a history entry. */
export function navigate(path: string) {
  window.history.pushState(null, "", `${BASE}${path}`);
  for (const notify of listeners) notify();
  window.scrollTo(0, 0);
}

/** The current app path; re-renders on navigation and back/forward. */
export function usePath(): string {
  const [path, setPath] = useState(appPath);
  useEffect(() => {
    const update = () => setPath(appPath());
    listeners.add(update);
    return () => void listeners.delete(update);
  }, []);
  return path;
}

/** `/events/:eventId` against `/events/purchase` → `{ eventId: "purchase" }`; null when it does not match. */
export function matchPath(pattern: string, path: string): Record<string, string> | null {
  const patternParts = pattern.split("/").filter(Boolean);
  const pathParts = path.split("/").filter(Boolean);
  if (patternParts.length !== pathParts.length) return null;
  const params: Record<string, string> = {};
  for (const [i, part] of patternParts.entries()) {
    const actual = pathParts[i]!;
    if (part.startsWith(":")) params[part.slice(1)] = decodeURIComponent(actual);
    else if (part !== actual) return null;
  }
  return params;
}
