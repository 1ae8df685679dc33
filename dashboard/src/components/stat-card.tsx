import type { ComponentChildren } from "preact";

/** One number with its name, e.g. "Events 1,204". */
export function StatCard({ label, value, note, testId }: { label: string; value: ComponentChildren; note?: string; testId?: string }) {
  return (
    <div class="stat-card" data-testid={testId}>
      <span class="stat-label">{label}</span>
      <span class="stat-value">{value}</span>
      {note && <span class="stat-note">{note}</span>}
    </div>
  );
}

export const formatNumber = (value: number) => value.toLocaleString("en-US", { maximumFractionDigits: 2 });
