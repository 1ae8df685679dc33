import type { EventStats } from "../api/types";
import { formatNumber } from "./stat-card";

/**
 * One event's funnel: every log, those whose conditions held, those rewarded within the limit. Beside it the two
 * ways out: conditionFailed and limitReached (logs past the limit still count as condition met).
 */
export function Funnel({ stats }: { stats: EventStats }) {
  const rewarded = stats.conditionMet - stats.limitReached;
  const steps = [
    { label: "Logged", value: stats.totalCount, testId: "funnel-logged" },
    { label: "Condition met", value: stats.conditionMet, testId: "funnel-condition-met" },
    { label: "Rewarded within the limit", value: rewarded, testId: "funnel-rewarded" },
  ];
  const widest = Math.max(1, stats.totalCount);
  return (
    <div class="funnel" data-testid="funnel">
      <ol>
        {steps.map((step) => (
          <li key={step.label}>
            <span class="funnel-label">{step.label}</span>
            <span class="funnel-bar" style={{ width: `${Math.max(2, (100 * step.value) / widest)}%` }} aria-hidden="true" />
            <span class="funnel-value" data-testid={step.testId}>
              {formatNumber(step.value)}
            </span>
          </li>
        ))}
      </ol>
      <dl class="funnel-outs">
        <div>
          <dt>Condition failed</dt>
          <dd data-testid="funnel-condition-failed">{formatNumber(stats.conditionFailed)}</dd>
        </div>
        <div>
          <dt>Limit reached</dt>
          <dd data-testid="funnel-limit-reached">{formatNumber(stats.limitReached)}</dd>
        </div>
        <div>
          <dt>Points awarded</dt>
          <dd data-testid="funnel-points">{formatNumber(stats.pointsAwarded)}</dd>
        </div>
        <div>
          <dt>Users</dt>
          <dd>{formatNumber(stats.uniqueUsers)}</dd>
        </div>
      </dl>
    </div>
  );
}
