import { useEffect, useState } from "preact/hooks";
import { answer, createApiClient, type Credential } from "../api/client";
import { ApiFailure } from "../api/errors";
import { ErrorNotice } from "../components/feedback";
import { describedBy, Field } from "../components/fields";
import { credentialFrom } from "../lib/session";

/** The demo admin token `npm run dev` printed; the Worker offers it only in local dev (null elsewhere). */
async function fetchDemoToken(): Promise<string | null> {
  try {
    const response = await fetch(`${window.location.origin}/dashboard/demo-token`, { headers: { accept: "application/json" } });
    if (!response.ok) return null;
    const body = (await response.json()) as { token?: unknown };
    return typeof body.token === "string" ? body.token : null;
  } catch {
    return null;
  }
}

/**
 * Checks a credential the way the dashboard will use it: GET /v1/admin/streaks needs an admin token or an API
 * key, so a user token is told apart from a wrong one.
 */
async function verify(credential: Credential): Promise<void> {
  const client = createApiClient(credential);
  try {
    await answer(client.v1.admin.streaks.$get());
  } catch (error) {
    if (error instanceof ApiFailure && error.status === 403) {
      throw new ApiFailure(403, "This credential is not an admin's: sign in with an admin token or a server API key", error.fieldErrors);
    }
    throw error;
  }
}

export function SignInPage({ onSignIn }: { onSignIn: (credential: Credential) => void }) {
  const [pasted, setPasted] = useState("");
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const [checking, setChecking] = useState(false);
  const [demoToken, setDemoToken] = useState<string | null>(null);

  useEffect(() => {
    void fetchDemoToken().then(setDemoToken);
  }, []);

  async function signIn(value: string) {
    const trimmed = value.trim();
    if (!trimmed) {
      setFailure(new ApiFailure(0, "Paste an admin token or an API key", [{ path: "credential", message: "required" }]));
      return;
    }
    const credential = credentialFrom(trimmed);
    setChecking(true);
    setFailure(null);
    try {
      await verify(credential);
      onSignIn(credential);
    } catch (error) {
      setFailure(error instanceof ApiFailure ? error : new ApiFailure(0, String(error)));
    } finally {
      setChecking(false);
    }
  }

  return (
    <main class="sign-in" id="main">
      <h1>Loyalty Events dashboard</h1>
      <form
        class="form card"
        aria-label="Sign in"
        onSubmit={(e) => {
          e.preventDefault();
          void signIn(pasted);
        }}
      >
        <Field id="credential" label="Admin token or API key" hint="Kept in this tab only (sessionStorage); Sign out forgets it.">
          <textarea
            {...describedBy("credential", failure ? [{ path: "credential", message: failure.message }] : [], true)}
            rows={4}
            value={pasted}
            autoComplete="off"
            spellcheck={false}
            onInput={(e) => setPasted(e.currentTarget.value)}
          />
        </Field>
        {failure && <ErrorNotice failure={failure} context="Sign-in failed" />}
        <div class="button-row">
          <button type="submit" disabled={checking}>
            {checking ? "Checking…" : "Sign in"}
          </button>
          {demoToken && (
            <button type="button" class="secondary" disabled={checking} onClick={() => void signIn(demoToken)}>
              Use the demo admin token
            </button>
          )}
        </div>
        {demoToken && (
          <p class="muted">
            Local dev: the demo token is the admin token <code>npm run dev</code> printed (project demo).
          </p>
        )}
      </form>
      <p>
        <a href="/docs">API reference</a>
      </p>
    </main>
  );
}
