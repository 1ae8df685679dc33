import { bodyOf } from "../api/client";
import { useApiClient } from "../api/context";
import type { StreakDefinition } from "../api/types";
import { Empty, ErrorNotice, Loading } from "../components/feedback";
import { formatNumber, StatCard } from "../components/stat-card";
import { DefinitionsPage } from "../games/definitions-page";
import { StreakForm } from "../games/streak-form";
import { useApi } from "../lib/use-api";

export function StreaksPage() {
  return (
    <DefinitionsPage
      kind="streak"
      load={(client) => bodyOf(client.v1.admin.streaks.$get())}
      idOf={(streak) => streak.streakId}
      Form={StreakForm}
      empty="No streaks yet: a streak counts consecutive days or weeks with a qualifying log."
      list={(streaks, edit) => streaks.map((streak) => <StreakCard key={streak.streakId} streak={streak} onEdit={() => edit(streak)} />)}
    />
  );
}

function StreakCard({ streak, onEdit }: { streak: StreakDefinition; onEdit: () => void }) {
  return (
    <article class="card" data-streak-id={streak.streakId} aria-labelledby={`streak-${streak.streakId}`}>
      <div class="page-heading">
        <h2 id={`streak-${streak.streakId}`}>
          {streak.title} <span class={`badge ${streak.status === "ACTIVE" ? "badge-ok" : "badge-off"}`}>{streak.status}</span>
        </h2>
        <button type="button" class="secondary" onClick={onEdit} aria-label={`Edit streak ${streak.streakId}`}>
          Edit
        </button>
      </div>
      <p class="muted">
        <code>{streak.streakId}</code> · every {streak.period} ({streak.timezone}) with {streak.eventIds.join(", ")} · goal {streak.goal} ·{" "}
        {streak.freezesPerMonth} freeze
        {streak.freezesPerMonth === 1 ? "" : "s"} a month
      </p>
      <StreakAnalyticsCards streakId={streak.streakId} />
    </article>
  );
}

/** GET /v1/analytics/streak: null until someone has a qualifying log. */
function StreakAnalyticsCards({ streakId }: { streakId: string }) {
  const client = useApiClient();
  const analytics = useApi(() => bodyOf(client.v1.analytics.streak.$get({ query: { streakId } })), [client, streakId]);
  if (analytics.failure) return <ErrorNotice failure={analytics.failure} context="Could not load the streak's analytics" />;
  if (analytics.state === "loading") return <Loading what="analytics" />;
  if (!analytics.data) return <Empty>No participants yet.</Empty>;
  const a = analytics.data;
  return (
    <div class="stat-grid" data-testid="streak-analytics">
      <StatCard label="Participants" value={formatNumber(a.totalParticipants)} testId="streak-participants" />
      <StatCard label="Active now" value={formatNumber(a.activeParticipants)} testId="streak-active" />
      <StatCard label="Average streak" value={formatNumber(a.averageStreakLength)} note="of the active ones" />
      <StatCard label="Longest streak" value={formatNumber(a.longestUserStreak)} testId="streak-longest" />
      <StatCard label="Completion rate" value={`${formatNumber(a.completionRate * 100)} %`} note="reached the goal" />
    </div>
  );
}
