import { useState } from "preact/hooks";
import { bodyOf } from "../api/client";
import { useApiClient } from "../api/context";
import { errorsAt, type FieldError } from "../api/errors";
import type { LeaderboardDefinition } from "../api/types";
import { describedBy, Field } from "../components/fields";
import { DefinitionForm, type DefinitionFormProps } from "./definition-form";
import { EventIdsField, SharedFields, sharedProblems, type SharedDraft } from "./shared-fields";

type LeaderboardDraft = SharedDraft & { metric: "points" | "count"; eventIds: string[]; period: "all" | "day" | "week" | "month" };

const toDraft = (board: LeaderboardDefinition | null): LeaderboardDraft =>
  board
    ? {
        id: board.leaderboardId,
        title: board.title,
        description: board.description,
        status: board.status,
        timezone: board.timezone,
        metric: board.metric,
        eventIds: board.eventIds ?? [],
        period: board.period,
      }
    : { id: "", title: "", description: "", status: "ACTIVE", timezone: "UTC", metric: "points", eventIds: [], period: "week" };

/** Create or edit a leaderboard: everyone's points, or a count of some events' logs, per period. */
export function LeaderboardForm({ definition: board, onSaved, onCancel }: DefinitionFormProps<LeaderboardDefinition>) {
  const client = useApiClient();
  const [draft, setDraft] = useState(() => toDraft(board));
  const creating = board === null;

  const check = (): FieldError[] => sharedProblems(draft, creating, draft.metric === "count" ? draft.eventIds : undefined);
  const save = async () => {
    const json = {
      title: draft.title.trim(),
      description: draft.description,
      status: draft.status,
      timezone: draft.timezone.trim(),
      metric: draft.metric,
      period: draft.period,
      ...(draft.metric === "count" ? { eventIds: draft.eventIds } : {}),
    };
    await bodyOf(client.v1.admin.leaderboards[":leaderboardId"].$put({ param: { leaderboardId: draft.id.trim() }, json }));
    onSaved();
  };

  return (
    <DefinitionForm
      label={creating ? "New leaderboard" : `Edit leaderboard ${draft.id}`}
      creating={creating}
      idParam="leaderboardId"
      check={check}
      save={save}
      onCancel={onCancel}
    >
      {(errors) => (
        <>
          <SharedFields prefix="leaderboard" draft={draft} creating={creating} errors={errors} onChange={setDraft} />
          <div class="inline-fields">
            <Field id="leaderboard-metric" label="Metric" errors={errorsAt(errors, "metric")}>
              <select
                {...describedBy("leaderboard-metric", errorsAt(errors, "metric"))}
                value={draft.metric}
                onChange={(e) => setDraft({ ...draft, metric: e.currentTarget.value as LeaderboardDraft["metric"] })}
              >
                <option value="points">points (every award, bonuses included)</option>
                <option value="count">count of some events' logs</option>
              </select>
            </Field>
            <Field id="leaderboard-period" label="Period" errors={errorsAt(errors, "period")}>
              <select
                {...describedBy("leaderboard-period", errorsAt(errors, "period"))}
                value={draft.period}
                onChange={(e) => setDraft({ ...draft, period: e.currentTarget.value as LeaderboardDraft["period"] })}
              >
                <option value="all">all time</option>
                <option value="day">day</option>
                <option value="week">week</option>
                <option value="month">month</option>
              </select>
            </Field>
          </div>
          {draft.metric === "count" && (
            <EventIdsField prefix="leaderboard" selected={draft.eventIds} errors={errors} onChange={(eventIds) => setDraft({ ...draft, eventIds })} />
          )}
        </>
      )}
    </DefinitionForm>
  );
}
