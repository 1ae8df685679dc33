import { describedBy, Field, fieldId } from "./fields";

/** The stats windows the API knows, plus a calendar month. */
export const STATS_PERIODS = ["1d", "7d", "30d", "90d", "current_month", "ytd", "all", "month"] as const;
export type StatsPeriodChoice = (typeof STATS_PERIODS)[number];
export type StatsSelection = { period: StatsPeriodChoice; month: string };

const PERIOD_LABELS: Record<StatsPeriodChoice, string> = {
  "1d": "Today",
  "7d": "Last 7 days",
  "30d": "Last 30 days",
  "90d": "Last 90 days",
  current_month: "This month",
  ytd: "Year to date",
  all: "All time",
  month: "A month…",
};

export const currentMonth = () => new Date().toISOString().slice(0, 7);

/** The query of GET /v1/stats/event for a selection. */
export function statsQuery(selection: StatsSelection, eventId?: string) {
  const base = eventId ? { eventId } : {};
  if (selection.period === "month") return { ...base, period: "7d" as const, timeframe: "month" as const, month: selection.month };
  return { ...base, period: selection.period };
}

/** Period picker: 1d … all, or a month (YYYY-MM). */
export function PeriodPicker({ value, onChange }: { value: StatsSelection; onChange: (next: StatsSelection) => void }) {
  const periodId = fieldId("period");
  const monthId = fieldId("month");
  return (
    <div class="inline-fields">
      <Field id={periodId} label="Period">
        <select {...describedBy(periodId)} value={value.period} onChange={(e) => onChange({ ...value, period: e.currentTarget.value as StatsPeriodChoice })}>
          {STATS_PERIODS.map((p) => (
            <option key={p} value={p}>
              {PERIOD_LABELS[p]}
            </option>
          ))}
        </select>
      </Field>
      {value.period === "month" && (
        <Field id={monthId} label="Month">
          <input
            {...describedBy(monthId)}
            type="month"
            value={value.month}
            max={currentMonth()}
            onChange={(e) => e.currentTarget.value && onChange({ ...value, month: e.currentTarget.value })}
          />
        </Field>
      )}
    </div>
  );
}
