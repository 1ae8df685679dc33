import { useState } from "preact/hooks";
import type { Credential } from "./api/client";
import { ApiClientProvider } from "./api/context";
import { Link } from "./components/link";
import { clearCredential, describeCredential, loadCredential, saveCredential } from "./lib/session";
import { matchPath, navigate, usePath } from "./lib/router";
import { AnalyticsPage } from "./pages/analytics-page";
import { ApiKeysPage } from "./pages/api-keys-page";
import { ChallengesPage } from "./pages/challenges-page";
import { EventEditPage } from "./pages/event-edit-page";
import { EventsPage } from "./pages/events-page";
import { LeaderboardsPage } from "./pages/leaderboards-page";
import { LedgerPage } from "./pages/ledger-page";
import { NotFoundPage } from "./pages/not-found-page";
import { SettingsPage } from "./pages/settings-page";
import { SignInPage } from "./pages/sign-in-page";
import { StreaksPage } from "./pages/streaks-page";
import { TiersPage } from "./pages/tiers-page";
import { UsagePage } from "./pages/usage-page";
import { UsersPage } from "./pages/users-page";
import { WebhooksPage } from "./pages/webhooks-page";

const NAVIGATION = [
  { to: "/analytics", label: "Analytics" },
  { to: "/events", label: "Events" },
  { to: "/streaks", label: "Streaks" },
  { to: "/challenges", label: "Challenges" },
  { to: "/leaderboards", label: "Leaderboards" },
  { to: "/ledger", label: "Ledger" },
  { to: "/users", label: "Users" },
  { to: "/tiers", label: "Tiers" },
  { to: "/api-keys", label: "API keys" },
  { to: "/webhooks", label: "Webhooks" },
  { to: "/usage", label: "Usage" },
  { to: "/settings", label: "Settings" },
];

/** The page for an app path (`/events/purchase_completed`). */
function Page({ path }: { path: string }) {
  if (path === "/" || path === "/analytics") return <AnalyticsPage />;
  if (path === "/events") return <EventsPage />;
  if (path === "/events/new") return <EventEditPage eventId={null} />;
  const event = matchPath("/events/:eventId", path);
  if (event) return <EventEditPage eventId={event.eventId!} />;
  if (path === "/streaks") return <StreaksPage />;
  if (path === "/challenges") return <ChallengesPage />;
  if (path === "/leaderboards") return <LeaderboardsPage leaderboardId={null} />;
  const board = matchPath("/leaderboards/:leaderboardId", path);
  if (board) return <LeaderboardsPage leaderboardId={board.leaderboardId!} />;
  if (path === "/ledger") return <LedgerPage />;
  if (path === "/users") return <UsersPage userId={null} />;
  const user = matchPath("/users/:userId", path);
  if (user) return <UsersPage userId={user.userId!} />;
  if (path === "/tiers") return <TiersPage />;
  if (path === "/settings") return <SettingsPage />;
  if (path === "/api-keys") return <ApiKeysPage />;
  if (path === "/webhooks") return <WebhooksPage />;
  if (path === "/usage") return <UsagePage />;
  return <NotFoundPage path={path} />;
}

export function App() {
  const [credential, setCredential] = useState<Credential | null>(loadCredential);
  const path = usePath();

  if (!credential) {
    return (
      <SignInPage
        onSignIn={(signedIn) => {
          saveCredential(signedIn);
          setCredential(signedIn);
        }}
      />
    );
  }

  const signOut = () => {
    clearCredential();
    setCredential(null);
    navigate("/");
  };

  const section = `/${path.split("/")[1] ?? ""}`;
  return (
    <ApiClientProvider credential={credential}>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="top-bar">
        <span class="brand">Loyalty Events</span>
        <nav aria-label="Sections">
          <ul>
            {NAVIGATION.map((item) => (
              <li key={item.to}>
                <Link to={item.to} current={section === item.to || (section === "/" && item.to === "/analytics")}>
                  {item.label}
                </Link>
              </li>
            ))}
            <li>
              <a href="/docs" target="_blank" rel="noopener">
                API reference ↗
              </a>
            </li>
          </ul>
        </nav>
        <div class="session">
          <span class="muted" data-testid="signed-in-as">
            {describeCredential(credential)}
          </span>
          <button type="button" class="secondary" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Page path={path} />
      </main>
    </ApiClientProvider>
  );
}
