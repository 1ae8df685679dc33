import { useState } from "preact/hooks";
import { bodyOf } from "../api/client";
import { useApiClient } from "../api/context";
import { errorsAt, type FieldError } from "../api/errors";
import type { StreakDefinition } from "../api/types";
import { describedBy, Field } from "../components/fields";
import { DefinitionForm, type DefinitionFormProps } from "./definition-form";
import { EventIdsField, SharedFields, sharedProblems, wholeNumber, type SharedDraft } from "./shared-fields";

type StreakDraft = SharedDraft & { eventIds: string[]; period: "day" | "week"; goal: string; freezesPerMonth: string };

const toDraft = (streak: StreakDefinition | null): StreakDraft =>
  streak
    ? {
        id: streak.streakId,
        title: streak.title,
        description: streak.description,
        status: streak.status,
        timezone: streak.timezone,
        eventIds: streak.eventIds,
        period: streak.period,
        goal: String(streak.goal),
        freezesPerMonth: String(streak.freezesPerMonth),
      }
    : { id: "", title: "", description: "", status: "ACTIVE", timezone: "UTC", eventIds: [], period: "day", goal: "7", freezesPerMonth: "0" };

/** Create or edit a streak: consecutive local days or weeks with a qualifying log. */
export function StreakForm({ definition: streak, onSaved, onCancel }: DefinitionFormProps<StreakDefinition>) {
  const client = useApiClient();
  const [draft, setDraft] = useState(() => toDraft(streak));
  const creating = streak === null;

  const check = (): FieldError[] => {
    const problems = sharedProblems(draft, creating, draft.eventIds);
    const goal = wholeNumber(draft.goal);
    if (!(goal >= 1 && goal <= 100_000)) problems.push({ path: "goal", message: "a whole number from 1 to 100000" });
    const freezes = wholeNumber(draft.freezesPerMonth);
    if (!(freezes >= 0 && freezes <= 31)) problems.push({ path: "freezesPerMonth", message: "a whole number from 0 to 31" });
    return problems;
  };
  const save = async () => {
    const json = {
      title: draft.title.trim(),
      description: draft.description,
      status: draft.status,
      timezone: draft.timezone.trim(),
      eventIds: draft.eventIds,
      period: draft.period,
      goal: wholeNumber(draft.goal),
      freezesPerMonth: wholeNumber(draft.freezesPerMonth),
    };
    await bodyOf(client.v1.admin.streaks[":streakId"].$put({ param: { streakId: draft.id.trim() }, json }));
    onSaved();
  };

  return (
    <DefinitionForm
      label={creating ? "New streak" : `Edit streak ${draft.id}`}
      creating={creating}
      idParam="streakId"
      check={check}
      save={save}
      onCancel={onCancel}
    >
      {(errors) => (
        <>
          <SharedFields prefix="streak" draft={draft} creating={creating} errors={errors} onChange={setDraft} />
          <div class="inline-fields">
            <Field id="streak-period" label="Period" errors={errorsAt(errors, "period")}>
              <select
                {...describedBy("streak-period", errorsAt(errors, "period"))}
                value={draft.period}
                onChange={(e) => setDraft({ ...draft, period: e.currentTarget.value as StreakDraft["period"] })}
              >
                <option value="day">day</option>
                <option value="week">week (Monday start)</option>
              </select>
            </Field>
            <Field id="streak-goal" label="Goal (periods in a row)" errors={errorsAt(errors, "goal")}>
              <input
                {...describedBy("streak-goal", errorsAt(errors, "goal"))}
                inputMode="numeric"
                value={draft.goal}
                onInput={(e) => setDraft({ ...draft, goal: e.currentTarget.value })}
              />
            </Field>
            <Field id="streak-freezes" label="Freezes per month" hint="Missed periods forgiven each month" errors={errorsAt(errors, "freezesPerMonth")}>
              <input
                {...describedBy("streak-freezes", errorsAt(errors, "freezesPerMonth"), true)}
                inputMode="numeric"
                value={draft.freezesPerMonth}
                onInput={(e) => setDraft({ ...draft, freezesPerMonth: e.currentTarget.value })}
              />
            </Field>
          </div>
          <EventIdsField prefix="streak" selected={draft.eventIds} errors={errors} onChange={(eventIds) => setDraft({ ...draft, eventIds })} />
        </>
      )}
    </DefinitionForm>
  );
}
