import { errorsAt, type FieldError } from "../api/errors";
import { describedBy, Field } from "../components/fields";
import { useEventDefinitions } from "../pages/events-page";

/**
 * The fields streaks, challenges and leaderboards share: id (new ones only), title, description, status, time
 * zone and the events that count. Errors come at the API's paths (`title`, `eventIds`, `timezone`).
 */
export type SharedDraft = { id: string; title: string; description: string; status: "ACTIVE" | "INACTIVE"; timezone: string };

const TIME_ZONES: readonly string[] = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : ["UTC", "Europe/Berlin"];

export function SharedFields<D extends SharedDraft>(props: {
  prefix: string;
  draft: D;
  creating: boolean;
  errors: readonly FieldError[];
  onChange: (draft: D) => void;
}) {
  const { prefix, draft, creating, errors, onChange } = props;
  const id = (name: string) => `${prefix}-${name}`;
  const at = (path: string) => errorsAt(errors, path);
  return (
    <>
      <div class="inline-fields">
        <Field id={id("id")} label="Id" hint={creating ? "Letters, digits, _ . -" : "The id cannot change"} errors={at("id")}>
          <input
            {...describedBy(id("id"), at("id"), true)}
            value={draft.id}
            readOnly={!creating}
            onInput={(e) => onChange({ ...draft, id: e.currentTarget.value })}
          />
        </Field>
        <Field id={id("title")} label="Title" errors={at("title")}>
          <input {...describedBy(id("title"), at("title"))} value={draft.title} onInput={(e) => onChange({ ...draft, title: e.currentTarget.value })} />
        </Field>
        <Field id={id("status")} label="Status" errors={at("status")}>
          <select
            {...describedBy(id("status"), at("status"))}
            value={draft.status}
            onChange={(e) => onChange({ ...draft, status: e.currentTarget.value as SharedDraft["status"] })}
          >
            <option value="ACTIVE">ACTIVE</option>
            <option value="INACTIVE">INACTIVE</option>
          </select>
        </Field>
        <Field id={id("timezone")} label="Time zone" hint="IANA name; periods follow its calendar" errors={at("timezone")}>
          <input
            {...describedBy(id("timezone"), at("timezone"), true)}
            list={id("timezones")}
            value={draft.timezone}
            onInput={(e) => onChange({ ...draft, timezone: e.currentTarget.value })}
          />
          <datalist id={id("timezones")}>
            {TIME_ZONES.map((zone) => (
              <option key={zone} value={zone} />
            ))}
          </datalist>
        </Field>
      </div>
      <Field id={id("description")} label="Description" errors={at("description")}>
        <textarea
          {...describedBy(id("description"), at("description"))}
          rows={2}
          value={draft.description}
          onInput={(e) => onChange({ ...draft, description: e.currentTarget.value })}
        />
      </Field>
    </>
  );
}

/** Checkboxes over the project's event definitions. */
export function EventIdsField({
  prefix,
  selected,
  errors,
  onChange,
  legend = "Events that count",
}: {
  prefix: string;
  selected: string[];
  errors: readonly FieldError[];
  onChange: (ids: string[]) => void;
  legend?: string;
}) {
  const definitions = useEventDefinitions();
  const own = errorsAt(errors, "eventIds");
  const known = new Set(definitions.data?.map((d) => d.eventId) ?? []);
  const all = [...(definitions.data?.map((d) => d.eventId) ?? []), ...selected.filter((id) => !known.has(id))];
  return (
    <fieldset class={own.length > 0 ? "field-invalid" : ""} aria-describedby={own.length > 0 ? `${prefix}-events-error` : undefined}>
      <legend>{legend}</legend>
      {definitions.state === "loading" && !definitions.data && <p class="muted">Loading events…</p>}
      {definitions.failure && <p class="field-error">{definitions.failure.message}</p>}
      <div class="checkbox-grid">
        {all.map((eventId) => (
          <div class="field checkbox" key={eventId}>
            <input
              id={`${prefix}-event-${eventId}`}
              type="checkbox"
              checked={selected.includes(eventId)}
              onChange={(e) => onChange(e.currentTarget.checked ? [...selected, eventId] : selected.filter((id) => id !== eventId))}
            />
            <label for={`${prefix}-event-${eventId}`}>{eventId}</label>
          </div>
        ))}
      </div>
      {own.length > 0 && (
        <small class="field-error" id={`${prefix}-events-error`} role="alert">
          {own.map((e) => e.message).join("; ")}
        </small>
      )}
    </fieldset>
  );
}

/** A whole number typed into a text input: NaN when it is not one (the caller names the field). */
export const wholeNumber = (text: string) => (/^\s*-?\d+\s*$/.test(text) ? Number(text) : Number.NaN);

const DEFINITION_ID = /^[A-Za-z0-9_.-]{1,128}$/;

/** Checks the shared fields like the API; `id` is the path parameter. */
export function sharedProblems(draft: SharedDraft, creating: boolean, eventIds?: string[]): FieldError[] {
  const problems: FieldError[] = [];
  if (creating && !DEFINITION_ID.test(draft.id.trim())) problems.push({ path: "id", message: "must be 1-128 characters of letters, digits, _ . -" });
  if (draft.title.trim() === "") problems.push({ path: "title", message: "required" });
  if (eventIds !== undefined && eventIds.length === 0) problems.push({ path: "eventIds", message: "choose at least one event" });
  return problems;
}
