import { useMemo, useState } from "preact/hooks";
import { bodyOf } from "../api/client";
import { useApiClient } from "../api/context";
import { type ApiFailure, asFailure, errorsAt, type FieldError } from "../api/errors";
import type { LoyaltyEvent } from "../api/types";
import { ErrorNotice } from "../components/feedback";
import { describedBy, Field } from "../components/fields";

/**
 * Sets a ledger entry's reward to a new amount (0 refunds it all) with POST /v1/loyalty-events/{id}/adjustments.
 * One Idempotency-Key per opened form: a double submit or a retry after a lost answer applies it once.
 */
export function AdjustForm({ entry, onAdjusted, onCancel }: { entry: LoyaltyEvent; onAdjusted: (adjusted: LoyaltyEvent) => void; onCancel: () => void }) {
  const client = useApiClient();
  const idempotencyKey = useMemo(() => `dashboard-${crypto.randomUUID()}`, []);
  const [amount, setAmount] = useState(String(entry.reward?.rewardAmount ?? 0));
  const [reason, setReason] = useState("");
  const [allowNegativeBalance, setAllowNegativeBalance] = useState(false);
  const [problems, setProblems] = useState<FieldError[]>([]);
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const [saving, setSaving] = useState(false);
  const ids = { amount: `adjust-${entry.id}-amount`, reason: `adjust-${entry.id}-reason`, negative: `adjust-${entry.id}-negative` };
  const errors = failure ? failure.fieldErrors : problems;

  async function submit(event: Event) {
    event.preventDefault();
    const rewardAmount = Number(amount.trim());
    const found: FieldError[] = [];
    if (amount.trim() === "" || !Number.isFinite(rewardAmount)) found.push({ path: "rewardAmount", message: "must be a number" });
    else if (rewardAmount < 0) found.push({ path: "rewardAmount", message: "must not be negative (0 refunds the whole reward)" });
    if (reason.trim() === "") found.push({ path: "reason", message: "say why (it is kept with the adjustment)" });
    setProblems(found);
    setFailure(null);
    if (found.length > 0) return;
    setSaving(true);
    try {
      const adjusted = await bodyOf(
        client.v1["loyalty-events"][":id"].adjustments.$post({
          param: { id: String(entry.id) },
          header: { "idempotency-key": idempotencyKey },
          json: { rewardAmount, reason: reason.trim(), ...(allowNegativeBalance ? { allowNegativeBalance } : {}) },
        }),
      );
      onAdjusted(adjusted);
    } catch (error) {
      setFailure(asFailure(error));
    } finally {
      setSaving(false);
    }
  }

  return (
    <form class="adjust-form" onSubmit={submit} noValidate aria-label={`Adjust the reward of ledger entry ${entry.id}`}>
      <Field
        id={ids.amount}
        label={`New reward amount${entry.reward?.rewardCurrency ? ` (${entry.reward.rewardCurrency})` : ""}`}
        hint="0 refunds the whole reward"
        errors={errorsAt(errors, "rewardAmount")}
      >
        <input
          {...describedBy(ids.amount, errorsAt(errors, "rewardAmount"), true)}
          inputMode="decimal"
          value={amount}
          onInput={(e) => setAmount(e.currentTarget.value)}
        />
      </Field>
      <Field id={ids.reason} label="Reason" errors={errorsAt(errors, "reason")}>
        <input
          {...describedBy(ids.reason, errorsAt(errors, "reason"))}
          value={reason}
          placeholder="order returned"
          onInput={(e) => setReason(e.currentTarget.value)}
        />
      </Field>
      <div class="field checkbox">
        <input id={ids.negative} type="checkbox" checked={allowNegativeBalance} onChange={(e) => setAllowNegativeBalance(e.currentTarget.checked)} />
        <label for={ids.negative}>Allow the balance to go below 0</label>
      </div>
      <div class="button-row">
        <button type="submit" disabled={saving}>
          {saving ? "Applying…" : "Apply adjustment"}
        </button>
        <button type="button" class="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
      {failure && <ErrorNotice failure={failure} context={`Could not adjust entry ${entry.id}`} />}
    </form>
  );
}
