import { errorsAt, type FieldError } from "../api/errors";
import { describedBy, Field } from "../components/fields";
import { newKey, type MetadataFieldDraft } from "./definition-draft";
import { METADATA_FIELD_TYPES } from "../../../src/domain/definition-vocabulary";

/** The metadata a log must (or may) carry, checked by the API before it awards anything. */
export function MetadataFieldsEditor(props: { fields: MetadataFieldDraft[]; errors: readonly FieldError[]; onChange: (fields: MetadataFieldDraft[]) => void }) {
  const { fields, errors, onChange } = props;
  const update = (index: number, change: Partial<MetadataFieldDraft>) => onChange(fields.map((f, i) => (i === index ? { ...f, ...change } : f)));
  return (
    <fieldset>
      <legend>Metadata fields</legend>
      {fields.length === 0 && <p class="muted">No metadata is checked: logs may carry any.</p>}
      {fields.map((field, i) => {
        const nameId = `meta-${field.key}-key`;
        const typeId = `meta-${field.key}-type`;
        const requiredId = `meta-${field.key}-required`;
        const nameErrors = errorsAt(errors, `metadataFields.${i}.key`);
        return (
          <div class="inline-fields" key={field.key} data-testid="metadata-field-row">
            <Field id={nameId} label="Key" errors={nameErrors}>
              <input {...describedBy(nameId, nameErrors)} value={field.name} onInput={(e) => update(i, { name: e.currentTarget.value })} />
            </Field>
            <Field id={typeId} label="Type">
              <select {...describedBy(typeId)} value={field.type} onChange={(e) => update(i, { type: e.currentTarget.value as MetadataFieldDraft["type"] })}>
                {METADATA_FIELD_TYPES.map((t) => (
                  <option key={t} value={t}>
                    {t}
                  </option>
                ))}
              </select>
            </Field>
            <div class="field checkbox">
              <input id={requiredId} type="checkbox" checked={field.required} onChange={(e) => update(i, { required: e.currentTarget.checked })} />
              <label for={requiredId}>Required</label>
            </div>
            <button
              type="button"
              class="secondary"
              onClick={() => onChange(fields.filter((_, j) => j !== i))}
              aria-label={`Remove metadata field ${field.name || i + 1}`}
            >
              Remove
            </button>
          </div>
        );
      })}
      <button type="button" class="secondary" onClick={() => onChange([...fields, { key: newKey(), name: "", type: "string", required: false }])}>
        + Metadata field
      </button>
    </fieldset>
  );
}
