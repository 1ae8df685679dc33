import { useRef, useState } from "preact/hooks";
import { ApiFailure, errorsAt, type FieldError } from "../api/errors";
import type { EventDefinitionInput } from "../api/types";
import { ErrorNotice, FieldErrorList } from "../components/feedback";
import { describedBy, Field } from "../components/fields";
import { ConditionGroupEditor } from "./condition-builder";
import { draftToInput, newGroup, type EventDraft } from "./definition-draft";
import { LIMIT_PERIODS, LOYALTY_EVENT_TYPES, REWARD_TYPES } from "../../../src/domain/definition-vocabulary";
import { MetadataFieldsEditor } from "./metadata-fields-editor";
import { RewardEditor } from "./reward-editor";

const REWARD_UNITS: Record<EventDraft["rewardType"], { standard: string; transaction: string }> = {
  LOYALTY_POINTS: { standard: "Points", transaction: "Points per unit of the value field" },
  PERCENTAGE: { standard: "Percent", transaction: "Percent of the value field" },
  FLAT_AMOUNT: { standard: "Amount (currency below)", transaction: "Amount (currency below)" },
};

/**
 * Create or edit an event definition. It checks the draft like the API does before sending, and shows what the
 * API still refuses at the field its answer names (and the message next to the submit button).
 */
export function EventForm(props: { initial: EventDraft; creating: boolean; onSave: (eventId: string, input: EventDefinitionInput) => Promise<void> }) {
  const { creating, onSave } = props;
  const [draft, setDraft] = useState(props.initial);
  const [problems, setProblems] = useState<FieldError[]>([]);
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const [saving, setSaving] = useState(false);
  const summary = useRef<HTMLDivElement>(null);
  const set = <K extends keyof EventDraft>(key: K, value: EventDraft[K]) => setDraft((d) => ({ ...d, [key]: value }));

  const errors: readonly FieldError[] = failure ? failure.fieldErrors : problems;
  const at = (path: string) => errorsAt(errors, path);

  async function submit(event: Event) {
    event.preventDefault();
    const { input, problems: found } = draftToInput(draft, creating);
    setFailure(null);
    setProblems(found);
    if (found.length > 0) {
      summary.current?.focus();
      return;
    }
    setSaving(true);
    try {
      await onSave(draft.eventId.trim(), input);
    } catch (error) {
      setFailure(error instanceof ApiFailure ? error : new ApiFailure(0, String(error)));
      summary.current?.focus();
    } finally {
      setSaving(false);
    }
  }

  const transaction = draft.type === "TRANSACTION";
  const monetary = draft.rewardType !== "LOYALTY_POINTS";
  const unit = REWARD_UNITS[draft.rewardType][transaction ? "transaction" : "standard"];

  return (
    <form class="form" onSubmit={submit} noValidate aria-label={creating ? "New event definition" : `Edit ${draft.eventId}`}>
      <div ref={summary} tabIndex={-1} class="form-summary">
        {problems.length > 0 && !failure && (
          <div class="notice notice-error" role="alert">
            <strong>Please fix {problems.length === 1 ? "this problem" : `these ${problems.length} problems`}:</strong>
            <FieldErrorList errors={problems} />
          </div>
        )}
      </div>

      <fieldset>
        <legend>Event</legend>
        <Field
          id="event-id"
          label="Event id"
          hint={creating ? "Letters, digits, _ . : - (up to 128); used in POST /v1/event" : "The id cannot change"}
          errors={at("eventId")}
        >
          <input
            {...describedBy("event-id", at("eventId"), true)}
            value={draft.eventId}
            readOnly={!creating}
            required
            onInput={(e) => set("eventId", e.currentTarget.value)}
          />
        </Field>
        <Field id="event-title" label="Title" errors={at("title")}>
          <input {...describedBy("event-title", at("title"))} value={draft.title} required onInput={(e) => set("title", e.currentTarget.value)} />
        </Field>
        <Field id="event-description" label="Description" errors={at("description")}>
          <textarea
            {...describedBy("event-description", at("description"))}
            rows={2}
            value={draft.description}
            onInput={(e) => set("description", e.currentTarget.value)}
          />
        </Field>
        <div class="inline-fields">
          <Field id="event-status" label="Status" errors={at("status")}>
            <select
              {...describedBy("event-status", at("status"))}
              value={draft.status}
              onChange={(e) => set("status", e.currentTarget.value as EventDraft["status"])}
            >
              <option value="ACTIVE">ACTIVE</option>
              <option value="INACTIVE">INACTIVE</option>
            </select>
          </Field>
          <Field id="event-type" label="Type" errors={at("type")}>
            <select {...describedBy("event-type", at("type"))} value={draft.type} onChange={(e) => set("type", e.currentTarget.value as EventDraft["type"])}>
              <option value="STANDARD">STANDARD (fixed reward)</option>
              <option value="TRANSACTION">TRANSACTION (reward × a metadata value)</option>
            </select>
          </Field>
          <Field id="event-ledger-type" label="Ledger event type" errors={at("loyaltyEventType")}>
            <select
              {...describedBy("event-ledger-type", at("loyaltyEventType"))}
              value={draft.loyaltyEventType}
              onChange={(e) => set("loyaltyEventType", e.currentTarget.value as EventDraft["loyaltyEventType"])}
            >
              <option value="">(from the type)</option>
              {LOYALTY_EVENT_TYPES.map((t) => (
                <option key={t} value={t}>
                  {t}
                </option>
              ))}
            </select>
          </Field>
        </div>
      </fieldset>

      <fieldset>
        <legend>Reward</legend>
        <div class="inline-fields">
          <Field id="event-reward-type" label="Reward type" errors={at("rewardType")}>
            <select
              {...describedBy("event-reward-type", at("rewardType"))}
              value={draft.rewardType}
              onChange={(e) => set("rewardType", e.currentTarget.value as EventDraft["rewardType"])}
            >
              {REWARD_TYPES.map((t) => (
                <option key={t} value={t}>
                  {t}
                </option>
              ))}
            </select>
          </Field>
          {monetary && (
            <Field id="event-currency" label="Currency" hint="ISO 4217, e.g. EUR" errors={at("rewardCurrency")}>
              <input
                {...describedBy("event-currency", at("rewardCurrency"), true)}
                value={draft.rewardCurrency}
                maxLength={3}
                onInput={(e) => set("rewardCurrency", e.currentTarget.value.toUpperCase())}
              />
            </Field>
          )}
          {transaction && (
            <Field id="event-value-field" label="Value field" hint="The metadata key the reward multiplies, e.g. amount" errors={at("rewardValueField")}>
              <input
                {...describedBy("event-value-field", at("rewardValueField"), true)}
                value={draft.rewardValueField}
                onInput={(e) => set("rewardValueField", e.currentTarget.value)}
              />
            </Field>
          )}
          <Field id="event-maximum" label="Maximum reward per log" hint="Optional, whole number" errors={at("maximumReward")}>
            <input
              {...describedBy("event-maximum", at("maximumReward"), true)}
              inputMode="numeric"
              value={draft.maximumReward}
              onInput={(e) => set("maximumReward", e.currentTarget.value)}
            />
          </Field>
        </div>
        <RewardEditor rows={draft.rewards} unit={unit} errors={errors} onChange={(rows) => set("rewards", rows)} />
        <Field id="event-message" label="Customer message" hint="Optional; {points}, {title} and {balance} are filled in" errors={at("customerMessage")}>
          <input
            {...describedBy("event-message", at("customerMessage"), true)}
            value={draft.customerMessage}
            onInput={(e) => set("customerMessage", e.currentTarget.value)}
          />
        </Field>
        <div class="field checkbox">
          <input
            id="event-allow-increase"
            type="checkbox"
            checked={draft.allowRewardIncrease}
            onChange={(e) => set("allowRewardIncrease", e.currentTarget.checked)}
          />
          <label for="event-allow-increase">Adjustments may raise a reward above its original amount</label>
        </div>
      </fieldset>

      <fieldset>
        <legend>Limit</legend>
        <div class="inline-fields">
          <Field id="event-limit" label="Rewarded logs per user" hint="Empty: no limit" errors={at("limit")}>
            <input
              {...describedBy("event-limit", at("limit"), true)}
              inputMode="numeric"
              value={draft.limit}
              onInput={(e) => set("limit", e.currentTarget.value)}
            />
          </Field>
          <Field id="event-limit-period" label="Per" errors={at("limitPeriod")}>
            <select
              {...describedBy("event-limit-period", at("limitPeriod"))}
              value={draft.limitPeriod}
              onChange={(e) => set("limitPeriod", e.currentTarget.value as EventDraft["limitPeriod"])}
            >
              {LIMIT_PERIODS.map((p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </select>
          </Field>
        </div>
        <div class="field checkbox">
          <input id="event-requires-key" type="checkbox" checked={draft.requiresApiKey} onChange={(e) => set("requiresApiKey", e.currentTarget.checked)} />
          <label for="event-requires-key">Only server API keys may log it</label>
        </div>
      </fieldset>

      <MetadataFieldsEditor fields={draft.metadataFields} errors={errors} onChange={(fields) => set("metadataFields", fields)} />

      {draft.conditions ? (
        <div>
          <ConditionGroupEditor group={draft.conditions} path="conditions" errors={errors} onChange={(group) => set("conditions", group)} />
          <button type="button" class="secondary" onClick={() => set("conditions", null)}>
            Remove all conditions
          </button>
        </div>
      ) : (
        <fieldset>
          <legend>Conditions</legend>
          <p class="muted">No conditions: every log of this event is rewarded (within its limit).</p>
          <button type="button" class="secondary" onClick={() => set("conditions", newGroup("AND"))}>
            + Add conditions
          </button>
        </fieldset>
      )}

      <div class="form-actions">
        <button type="submit" disabled={saving}>
          {saving ? "Saving…" : creating ? "Create event" : "Save changes"}
        </button>
        {failure && <ErrorNotice failure={failure} context={creating ? "Could not create the event" : "Could not save the event"} />}
      </div>
    </form>
  );
}
