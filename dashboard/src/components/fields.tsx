import type { ComponentChildren } from "preact";
import type { FieldError } from "../api/errors";

let nextId = 0;
/** A stable id for a label/control pair. */
export const fieldId = (name: string) => `f-${name.replace(/[^\w-]/g, "-")}-${++nextId}`;

/**
 * A labelled control with its hint and its errors (from the form's checks or the API's answer), wired with
 * aria-describedby / aria-invalid so a screen reader reads the error with the field.
 */
export function Field(props: {
  id: string;
  label: ComponentChildren;
  hint?: ComponentChildren;
  errors?: readonly FieldError[];
  children: ComponentChildren;
  class?: string;
}) {
  const { id, label, hint, errors = [], children } = props;
  return (
    <div class={`field ${errors.length > 0 ? "field-invalid" : ""} ${props.class ?? ""}`}>
      <label for={id}>{label}</label>
      {children}
      {hint && (
        <small class="hint" id={`${id}-hint`}>
          {hint}
        </small>
      )}
      {errors.length > 0 && (
        <small class="field-error" id={`${id}-error`} role="alert">
          {errors.map((e) => e.message).join("; ")}
        </small>
      )}
    </div>
  );
}

/** The aria attributes a control inside `Field` carries. */
export const describedBy = (id: string, errors: readonly FieldError[] = [], hasHint = false) => ({
  id,
  "aria-invalid": errors.length > 0 ? ("true" as const) : undefined,
  "aria-describedby": [hasHint ? `${id}-hint` : "", errors.length > 0 ? `${id}-error` : ""].filter(Boolean).join(" ") || undefined,
});
