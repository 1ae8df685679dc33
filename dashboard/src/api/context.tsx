import { createContext, type ComponentChildren } from "preact";
import { useContext, useMemo } from "preact/hooks";
import { createApiClient, type ApiClient, type Credential } from "./client";

const ApiClientContext = createContext<ApiClient | null>(null);

/** Provides the typed client signed with the current credential to every page. */
export function ApiClientProvider({ credential, children }: { credential: Credential; children: ComponentChildren }) {
  const client = useMemo(() => createApiClient(credential), [credential]);
  return <ApiClientContext.Provider value={client}>{children}</ApiClientContext.Provider>;
}

export function useApiClient(): ApiClient {
  const client = useContext(ApiClientContext);
  if (!client) throw new Error("useApiClient outside ApiClientProvider");
  return client;
}
