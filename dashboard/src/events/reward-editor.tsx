import { errorsAt, type FieldError } from "../api/errors";
import { describedBy, Field } from "../components/fields";
import { newKey, type RewardRow } from "./definition-draft";

/** Reward per usergroup: `default` always, plus one row per group that earns differently (gold, silver…). */
export function RewardEditor(props: { rows: RewardRow[]; unit: string; errors: readonly FieldError[]; onChange: (rows: RewardRow[]) => void }) {
  const { rows, unit, errors, onChange } = props;
  const update = (index: number, change: Partial<RewardRow>) => onChange(rows.map((row, i) => (i === index ? { ...row, ...change } : row)));
  const missingDefault = errorsAt(errors, "reward.default").length > 0 && !rows.some((r) => r.group.trim() === "default");
  return (
    <fieldset>
      <legend>Reward per usergroup</legend>
      {missingDefault && (
        <p class="field-error" role="alert">
          A default reward is required.
        </p>
      )}
      {rows.map((row, i) => {
        const groupId = `reward-${row.key}-group`;
        const amountId = `reward-${row.key}-amount`;
        const groupErrors = errorsAt(errors, `rewards.${i}.group`);
        const amountErrors = errorsAt(errors, `reward.${row.group.trim()}`);
        const isDefault = i === 0;
        return (
          <div class="inline-fields" key={row.key} data-testid="reward-row">
            <Field id={groupId} label="Usergroup" errors={groupErrors}>
              <input
                {...describedBy(groupId, groupErrors)}
                value={row.group}
                readOnly={isDefault}
                onInput={(e) => update(i, { group: e.currentTarget.value })}
              />
            </Field>
            <Field id={amountId} label={unit} errors={amountErrors}>
              <input
                {...describedBy(amountId, amountErrors)}
                inputMode="decimal"
                value={row.amount}
                onInput={(e) => update(i, { amount: e.currentTarget.value })}
              />
            </Field>
            {!isDefault && (
              <button
                type="button"
                class="secondary"
                onClick={() => onChange(rows.filter((_, j) => j !== i))}
                aria-label={`Remove reward for ${row.group || "usergroup"}`}
              >
                Remove
              </button>
            )}
          </div>
        );
      })}
      <button type="button" class="secondary" onClick={() => onChange([...rows, { key: newKey(), group: "", amount: "" }])}>
        + Usergroup reward
      </button>
    </fieldset>
  );
}
