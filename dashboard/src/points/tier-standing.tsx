import type { PointsTier, TierLadder } from "../api/types";
import { Empty } from "../components/feedback";
import { Link } from "../components/link";
import { formatNumber } from "../components/stat-card";
import { toMinute } from "../pages/api-keys-page";

/** How a ladder's window reads after "points earned in". */
export const WINDOW_LABELS: Record<TierLadder["window"], string> = {
  lifetime: "the member's lifetime",
  calendar_year: "this calendar year",
  rolling_12_months: "the last 12 months",
};

/**
 * Where a member stands on the ladder: the tier (or none, below the lowest level), since when, the points earned in
 * the window, and the progress to the next level. `ladder` (for titles and the window) may be missing: the ids
 * stand in for the titles then.
 */
export function TierStanding({ tier, ladder }: { tier: PointsTier | null; ladder: TierLadder | null }) {
  const next = tier?.next ?? null;
  const nextTitle = next ? (ladder?.levels.find((level) => level.tierId === next.tierId)?.title ?? next.tierId) : null;
  return (
    <section aria-labelledby="user-tier-heading">
      <h2 id="user-tier-heading">Tier</h2>
      {tier === null ? (
        <Empty>
          This project has no tier ladder: <Link to="/tiers">set one up</Link>.
        </Empty>
      ) : (
        <div class="card" data-testid="user-tier">
          <dl class="facts">
            <div>
              <dt>Tier</dt>
              <dd data-testid="tier-title">{tier.title ?? <span class="muted">no tier</span>}</dd>
            </div>
            <div>
              <dt>Since</dt>
              <dd>{tier.since ? toMinute(tier.since) : <span class="muted">—</span>}</dd>
            </div>
            <div>
              <dt>Points earned in {ladder ? WINDOW_LABELS[ladder.window] : "the window"}</dt>
              <dd data-testid="tier-points-in-window">{formatNumber(tier.pointsInWindow)}</dd>
            </div>
          </dl>
          {next ? (
            <div class="tier-progress">
              <label for="tier-progress" data-testid="tier-progress-label">
                {formatNumber(next.pointsNeeded)} more points to {nextTitle} ({formatNumber(tier.pointsInWindow)} of{" "}
                {formatNumber(tier.pointsInWindow + next.pointsNeeded)})
              </label>
              {/* The next level's threshold is what the member has plus what is still needed. */}
              <progress id="tier-progress" max={tier.pointsInWindow + next.pointsNeeded} value={tier.pointsInWindow} />
            </div>
          ) : (
            <p class="muted">The top tier: there is no level above.</p>
          )}
        </div>
      )}
    </section>
  );
}
