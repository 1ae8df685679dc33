import { errorsAt, type FieldError } from "../api/errors";
import { describedBy, Field } from "../components/fields";
import { newGroup, newLeaf, type ConditionDraft, type ConditionGroupDraft, type ConditionLeafDraft } from "./definition-draft";
import { CONDITION_OPERATORS, type ConditionOperator } from "../../../src/domain/definition-vocabulary";

const OPERATOR_LABELS: Record<ConditionOperator, string> = {
  equals: "equals",
  not_equals: "does not equal",
  greater_than: ">",
  greater_than_or_equal: "≥",
  less_than: "<",
  less_than_or_equal: "≤",
  in: "is one of",
  not_in: "is none of",
  contains: "contains",
  starts_with: "starts with",
  exists: "exists",
};

const VALUE_HINTS: Partial<Record<ConditionOperator, string>> = {
  in: 'A list: EUR, USD or ["EUR","USD"]',
  not_in: 'A list: EUR, USD or ["EUR","USD"]',
  exists: "Empty or true: the field is there; false: it is not",
};

type Change<T> = (next: T) => void;

/**
 * A builder for a definition's condition tree: groups match all (AND) or any (OR) of their conditions and may
 * nest. `path` is the API's path of this group (`conditions`, `conditions.conditions.1`), so the errors the form
 * or the API name appear at the condition they are about.
 */
export function ConditionGroupEditor(props: {
  group: ConditionGroupDraft;
  path: string;
  errors: readonly FieldError[];
  onChange: Change<ConditionGroupDraft>;
  onRemove?: () => void;
}) {
  const { group, path, errors, onChange, onRemove } = props;
  const matchId = `cond-${group.key}-type`;
  const setChild = (index: number, child: ConditionDraft | null) =>
    onChange({
      ...group,
      conditions: child === null ? group.conditions.filter((_, i) => i !== index) : group.conditions.map((c, i) => (i === index ? child : c)),
    });
  const ownErrors = errors.filter((e) => e.path === path || e.path === `${path}.conditions`);
  return (
    <fieldset class="condition-group" data-testid="condition-group">
      <legend>{path === "conditions" ? "Conditions" : "Group"}</legend>
      <div class="inline-fields">
        <Field id={matchId} label="Match" errors={ownErrors}>
          <select {...describedBy(matchId, ownErrors)} value={group.type} onChange={(e) => onChange({ ...group, type: e.currentTarget.value as "AND" | "OR" })}>
            <option value="AND">all of these (AND)</option>
            <option value="OR">any of these (OR)</option>
          </select>
        </Field>
        {onRemove && (
          <button type="button" class="secondary" onClick={onRemove}>
            Remove group
          </button>
        )}
      </div>
      {group.conditions.length === 0 && <p class="muted">An empty group always holds.</p>}
      <ol class="condition-list">
        {group.conditions.map((child, i) => (
          <li key={child.key}>
            {child.kind === "group" ? (
              <ConditionGroupEditor
                group={child}
                path={`${path}.conditions.${i}`}
                errors={errors}
                onChange={(next) => setChild(i, next)}
                onRemove={() => setChild(i, null)}
              />
            ) : (
              <ConditionLeafEditor
                leaf={child}
                errors={errorsAt(errors, `${path}.conditions.${i}`)}
                path={`${path}.conditions.${i}`}
                onChange={(next) => setChild(i, next)}
                onRemove={() => setChild(i, null)}
              />
            )}
          </li>
        ))}
      </ol>
      <div class="button-row">
        <button type="button" class="secondary" onClick={() => onChange({ ...group, conditions: [...group.conditions, newLeaf()] })}>
          + Condition
        </button>
        <button
          type="button"
          class="secondary"
          onClick={() => onChange({ ...group, conditions: [...group.conditions, newGroup(group.type === "AND" ? "OR" : "AND")] })}
        >
          + Nested group
        </button>
      </div>
    </fieldset>
  );
}

function ConditionLeafEditor(props: {
  leaf: ConditionLeafDraft;
  path: string;
  errors: readonly FieldError[];
  onChange: Change<ConditionLeafDraft>;
  onRemove: () => void;
}) {
  const { leaf, path, errors, onChange, onRemove } = props;
  const id = (part: string) => `cond-${leaf.key}-${part}`;
  const fieldErrors = errorsAt(errors, `${path}.field`);
  const operatorErrors = errorsAt(errors, `${path}.operator`);
  const valueErrors = errorsAt(errors, `${path}.value`);
  const hint = VALUE_HINTS[leaf.operator] ?? 'Numbers, true/false and [lists] are read as JSON; quote text that looks like one: "42"';
  return (
    <div class="condition-leaf" data-testid="condition-leaf">
      <Field id={id("field")} label="Metadata field" errors={fieldErrors}>
        <input
          {...describedBy(id("field"), fieldErrors)}
          value={leaf.field}
          placeholder="cart.total"
          onInput={(e) => onChange({ ...leaf, field: e.currentTarget.value })}
        />
      </Field>
      <Field id={id("operator")} label="Operator" errors={operatorErrors}>
        <select
          {...describedBy(id("operator"), operatorErrors)}
          value={leaf.operator}
          onChange={(e) => onChange({ ...leaf, operator: e.currentTarget.value as ConditionOperator })}
        >
          {CONDITION_OPERATORS.map((operator) => (
            <option key={operator} value={operator}>
              {OPERATOR_LABELS[operator]}
            </option>
          ))}
        </select>
      </Field>
      <Field id={id("value")} label="Value" hint={hint} errors={valueErrors}>
        <input {...describedBy(id("value"), valueErrors, true)} value={leaf.value} onInput={(e) => onChange({ ...leaf, value: e.currentTarget.value })} />
      </Field>
      <button type="button" class="secondary remove" onClick={onRemove} aria-label={`Remove condition ${leaf.field || "(no field)"}`}>
        Remove
      </button>
    </div>
  );
}
