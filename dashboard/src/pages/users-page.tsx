import { useState } from "preact/hooks";
import { answer, bodyOf, type ApiClient } from "../api/client";
import { useApiClient } from "../api/context";
import { getPointsSettings, getTierLadder } from "../api/points";
import type { PointsProfile } from "../api/types";
import { Empty, ErrorNotice, Loading } from "../components/feedback";
import { describedBy, Field } from "../components/fields";
import { formatNumber, StatCard } from "../components/stat-card";
import { LedgerTable } from "../ledger/ledger-table";
import { navigate } from "../lib/router";
import { useApi } from "../lib/use-api";
import { ExpiringPointsList } from "../points/expiring-points";
import { PointsHistory } from "../points/points-history";
import { RedeemForm } from "../points/redeem-form";
import { TierStanding } from "../points/tier-standing";

const RECENT_ENTRIES = 10;

/**
 * A user's profile (balance, usergroups, streaks, challenges, tier, expiring points) and latest ledger entries,
 * with the project's time zone and ladder to show them in. Those two only dress the profile (dates in the zone,
 * tier titles): a key without `events:read` still sees the profile, in UTC and with tier ids.
 */
async function loadUser(client: ApiClient, userId: string) {
  const [profile, registered, settings] = await Promise.all([
    bodyOf(client.v1.users[":userId"].$get({ param: { userId } })),
    bodyOf(client.v1.admin.users[":userId"].$get({ param: { userId } })),
    getPointsSettings(client).catch(() => null),
  ]);
  // A profile without a tier means the project has no ladder: no GET to answer 404.
  const ladder = profile.tier ? await getTierLadder(client).catch(() => null) : null;
  const recent = await answer(
    client.v1["loyalty-events"].$get(
      { query: { accountid: String(registered.accountId), size: String(RECENT_ENTRIES), sort: "timestamp,desc" } },
      { headers: { accept: "application/json" } },
    ),
  );
  return {
    profile,
    registered,
    timeZone: settings?.timezone ?? "UTC",
    ladder,
    recent: recent.body,
    total: Number(recent.headers.get("X-Total-Count") ?? recent.body.length),
  };
}

export function UsersPage({ userId }: { userId: string | null }) {
  const [typed, setTyped] = useState(userId ?? "");
  return (
    <section>
      <h1>Users</h1>
      <form
        class="inline-fields card"
        aria-label="Look up a user"
        onSubmit={(e) => {
          e.preventDefault();
          if (typed.trim()) navigate(`/users/${encodeURIComponent(typed.trim())}`);
        }}
      >
        <Field id="user-lookup" label="User id">
          <input {...describedBy("user-lookup")} value={typed} placeholder="alice" onInput={(e) => setTyped(e.currentTarget.value)} />
        </Field>
        <button type="submit">Look up</button>
      </form>
      {userId === null ? (
        <Empty>
          Enter a user id to see the balance, tier, expiring points, points history, usergroups, streaks, challenges and recent ledger entries, and to redeem
          points.
        </Empty>
      ) : (
        <UserDetails key={userId} userId={userId} />
      )}
    </section>
  );
}

function UserDetails({ userId }: { userId: string }) {
  const client = useApiClient();
  const user = useApi(() => loadUser(client, userId), [client, userId]);
  // Grows with every redemption made here: the history reloads to show it.
  const [redemptions, setRedemptions] = useState(0);
  if (user.failure && !user.data) return <ErrorNotice failure={user.failure} context={`Could not look up ${userId}`} />;
  if (!user.data) return <Loading what={userId} />;
  const { profile, registered, timeZone, ladder, recent, total } = user.data;
  return (
    <>
      <div class="stat-grid">
        <StatCard label="Balance" value={formatNumber(profile.balance)} note="points" testId="user-balance" />
        <StatCard label="Account id" value={String(registered.accountId)} />
        <StatCard label="Usergroups" value={profile.usergroups.length > 0 ? profile.usergroups.join(", ") : "none"} testId="user-groups" />
        <StatCard label="Registered" value={registered.createdAt.slice(0, 10)} />
      </div>
      {user.failure && <ErrorNotice failure={user.failure} context={`Could not reload ${userId}`} />}
      <TierStanding tier={profile.tier} ladder={ladder} />
      <ExpiringPointsList expiring={profile.expiring} timeZone={timeZone} />
      <RedeemForm
        userId={userId}
        onRedeemed={() => {
          setRedemptions((n) => n + 1);
          user.reload();
        }}
      />
      <PointsHistory userId={userId} version={redemptions} onReversed={() => user.reload()} />
      <StreakProgress profile={profile} />
      <ChallengeProgress profile={profile} />
      <section aria-labelledby="recent-heading">
        <h2 id="recent-heading">Recent ledger entries</h2>
        {recent.length === 0 ? (
          <Empty>No logged events yet.</Empty>
        ) : (
          <>
            <LedgerTable entries={recent} onAdjusted={() => user.reload()} />
            <p class="muted">
              The latest {recent.length} of {total}.
            </p>
          </>
        )}
      </section>
    </>
  );
}

function StreakProgress({ profile }: { profile: PointsProfile }) {
  return (
    <section aria-labelledby="user-streaks-heading">
      <h2 id="user-streaks-heading">Streaks</h2>
      {profile.streaks.length === 0 ? (
        <Empty>No active streaks in this project.</Empty>
      ) : (
        <div class="table-scroll">
          <table data-testid="user-streaks">
            <thead>
              <tr>
                <th scope="col">Streak</th>
                <th scope="col">Current</th>
                <th scope="col">Longest</th>
                <th scope="col">Alive</th>
                <th scope="col">Last period</th>
              </tr>
            </thead>
            <tbody>
              {profile.streaks.map((s) => (
                <tr key={s.streakId}>
                  <th scope="row">{s.streakId}</th>
                  <td>{s.current}</td>
                  <td>{s.longest}</td>
                  <td>{s.alive ? "yes" : "no"}</td>
                  <td>{s.lastPeriod ?? "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function ChallengeProgress({ profile }: { profile: PointsProfile }) {
  return (
    <section aria-labelledby="user-challenges-heading">
      <h2 id="user-challenges-heading">Challenges</h2>
      {profile.challenges.length === 0 ? (
        <Empty>No active challenges in this project.</Empty>
      ) : (
        <ul class="progress-list" data-testid="user-challenges">
          {profile.challenges.map((c) => (
            <li key={c.challengeId}>
              <label for={`challenge-progress-${c.challengeId}`}>
                {c.challengeId}: {formatNumber(c.progress)} of {formatNumber(c.target)}
                {c.completed ? " · completed" : ""}
                {c.periodStart ? ` (since ${c.periodStart})` : ""}
              </label>
              <progress id={`challenge-progress-${c.challengeId}`} max={c.target} value={Math.min(c.progress, c.target)} />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
