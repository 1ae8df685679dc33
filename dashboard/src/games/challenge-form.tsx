import { useState } from "preact/hooks";
import { bodyOf } from "../api/client";
import { useApiClient } from "../api/context";
import { errorsAt, type FieldError } from "../api/errors";
import type { ChallengeDefinition } from "../api/types";
import { describedBy, Field } from "../components/fields";
import { DefinitionForm, type DefinitionFormProps } from "./definition-form";
import { EventIdsField, SharedFields, sharedProblems, wholeNumber, type SharedDraft } from "./shared-fields";

type ChallengeDraft = SharedDraft & {
  eventIds: string[];
  metric: "count" | "sum";
  field: string;
  target: string;
  period: "once" | "day" | "week" | "month";
  rewardPoints: string;
};

const toDraft = (challenge: ChallengeDefinition | null): ChallengeDraft =>
  challenge
    ? {
        id: challenge.challengeId,
        title: challenge.title,
        description: challenge.description,
        status: challenge.status,
        timezone: challenge.timezone,
        eventIds: challenge.eventIds,
        metric: challenge.metric,
        field: challenge.field ?? "",
        target: String(challenge.target),
        period: challenge.period,
        rewardPoints: String(challenge.rewardPoints),
      }
    : {
        id: "",
        title: "",
        description: "",
        status: "ACTIVE",
        timezone: "UTC",
        eventIds: [],
        metric: "count",
        field: "",
        target: "3",
        period: "week",
        rewardPoints: "100",
      };

/** Create or edit a challenge: reach a target (count of logs or a sum of a metadata value) in a period. */
export function ChallengeForm({ definition: challenge, onSaved, onCancel }: DefinitionFormProps<ChallengeDefinition>) {
  const client = useApiClient();
  const [draft, setDraft] = useState(() => toDraft(challenge));
  const creating = challenge === null;

  const check = (): FieldError[] => {
    const problems = sharedProblems(draft, creating, draft.eventIds);
    const target = Number(draft.target);
    if (draft.target.trim() === "" || !(target > 0)) problems.push({ path: "target", message: "a number above 0" });
    const points = wholeNumber(draft.rewardPoints);
    if (!(points >= 0)) problems.push({ path: "rewardPoints", message: "a whole number, 0 or more" });
    if (draft.metric === "sum" && draft.field.trim() === "") problems.push({ path: "field", message: "required when metric is sum" });
    return problems;
  };
  const save = async () => {
    const json = {
      title: draft.title.trim(),
      description: draft.description,
      status: draft.status,
      timezone: draft.timezone.trim(),
      eventIds: draft.eventIds,
      metric: draft.metric,
      ...(draft.metric === "sum" ? { field: draft.field.trim() } : {}),
      target: Number(draft.target),
      period: draft.period,
      rewardPoints: wholeNumber(draft.rewardPoints),
    };
    await bodyOf(client.v1.admin.challenges[":challengeId"].$put({ param: { challengeId: draft.id.trim() }, json }));
    onSaved();
  };

  return (
    <DefinitionForm
      label={creating ? "New challenge" : `Edit challenge ${draft.id}`}
      creating={creating}
      idParam="challengeId"
      check={check}
      save={save}
      onCancel={onCancel}
    >
      {(errors) => (
        <>
          <SharedFields prefix="challenge" draft={draft} creating={creating} errors={errors} onChange={setDraft} />
          <div class="inline-fields">
            <Field id="challenge-metric" label="Metric" errors={errorsAt(errors, "metric")}>
              <select
                {...describedBy("challenge-metric", errorsAt(errors, "metric"))}
                value={draft.metric}
                onChange={(e) => setDraft({ ...draft, metric: e.currentTarget.value as ChallengeDraft["metric"] })}
              >
                <option value="count">count of qualifying logs</option>
                <option value="sum">sum of a metadata value</option>
              </select>
            </Field>
            {draft.metric === "sum" && (
              <Field id="challenge-field" label="Summed metadata key" errors={errorsAt(errors, "field")}>
                <input
                  {...describedBy("challenge-field", errorsAt(errors, "field"))}
                  value={draft.field}
                  onInput={(e) => setDraft({ ...draft, field: e.currentTarget.value })}
                />
              </Field>
            )}
            <Field id="challenge-target" label="Target" errors={errorsAt(errors, "target")}>
              <input
                {...describedBy("challenge-target", errorsAt(errors, "target"))}
                inputMode="decimal"
                value={draft.target}
                onInput={(e) => setDraft({ ...draft, target: e.currentTarget.value })}
              />
            </Field>
            <Field id="challenge-period" label="Period" errors={errorsAt(errors, "period")}>
              <select
                {...describedBy("challenge-period", errorsAt(errors, "period"))}
                value={draft.period}
                onChange={(e) => setDraft({ ...draft, period: e.currentTarget.value as ChallengeDraft["period"] })}
              >
                <option value="once">once (lifetime)</option>
                <option value="day">day</option>
                <option value="week">week</option>
                <option value="month">month</option>
              </select>
            </Field>
            <Field id="challenge-points" label="Bonus points" errors={errorsAt(errors, "rewardPoints")}>
              <input
                {...describedBy("challenge-points", errorsAt(errors, "rewardPoints"))}
                inputMode="numeric"
                value={draft.rewardPoints}
                onInput={(e) => setDraft({ ...draft, rewardPoints: e.currentTarget.value })}
              />
            </Field>
          </div>
          <EventIdsField prefix="challenge" selected={draft.eventIds} errors={errors} onChange={(eventIds) => setDraft({ ...draft, eventIds })} />
        </>
      )}
    </DefinitionForm>
  );
}
