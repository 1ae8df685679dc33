import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { type ApiFailure, asFailure, type FieldError } from "../api/errors";
import { ErrorNotice, FieldErrorList } from "../components/feedback";

/** What a streak, challenge or leaderboard form takes: the definition to edit (null for a new one), and what follows. */
export type DefinitionFormProps<D> = { definition: D | null; onSaved: () => void; onCancel: () => void };

/**
 * The frame of a streak, challenge or leaderboard form: checks the draft (`check`), saves it, and shows what the
 * form or the API refused, at the fields (`children` render them) and next to the save button.
 */
export function DefinitionForm(props: {
  label: string;
  creating: boolean;
  /** The API's name of the path parameter (`streakId`): its errors are shown at the id field. */
  idParam: string;
  check: () => FieldError[];
  save: () => Promise<void>;
  onCancel: () => void;
  children: (errors: readonly FieldError[]) => ComponentChildren;
}) {
  const [problems, setProblems] = useState<FieldError[]>([]);
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const [saving, setSaving] = useState(false);
  const errors = (failure ? failure.fieldErrors : problems).map((e) => (e.path === props.idParam ? { ...e, path: "id" } : e));

  async function submit(event: Event) {
    event.preventDefault();
    const found = props.check();
    setProblems(found);
    setFailure(null);
    if (found.length > 0) return;
    setSaving(true);
    try {
      await props.save();
    } catch (error) {
      setFailure(asFailure(error));
    } finally {
      setSaving(false);
    }
  }

  return (
    <form class="form card" onSubmit={submit} noValidate aria-label={props.label}>
      <h2>{props.label}</h2>
      {problems.length > 0 && !failure && (
        <div class="notice notice-error" role="alert">
          <strong>Please fix:</strong>
          <FieldErrorList errors={problems} />
        </div>
      )}
      {props.children(errors)}
      <div class="form-actions">
        <button type="submit" disabled={saving}>
          {saving ? "Saving…" : props.creating ? "Create" : "Save changes"}
        </button>
        <button type="button" class="secondary" onClick={props.onCancel}>
          Cancel
        </button>
        {failure && <ErrorNotice failure={failure} context="Could not save" />}
      </div>
    </form>
  );
}
