import type { ComponentChildren } from "preact";
import type { ApiFailure, FieldError } from "../api/errors";

/** An API error, next to what caused it: the envelope's message, its status, and the fields it names. */
export function ErrorNotice({ failure, context }: { failure: ApiFailure; context?: string }) {
  return (
    <div class="notice notice-error" role="alert">
      <strong>{context ? `${context}: ` : ""}</strong>
      {failure.message}
      {failure.status > 0 && <span class="muted"> (HTTP {failure.status})</span>}
      {failure.fieldErrors.length > 0 && <FieldErrorList errors={failure.fieldErrors} />}
    </div>
  );
}

export function FieldErrorList({ errors }: { errors: readonly FieldError[] }) {
  return (
    <ul class="field-errors">
      {errors.map((e) => (
        <li key={`${e.path}:${e.message}`}>
          <code>{e.path}</code>: {e.message}
        </li>
      ))}
    </ul>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="loading" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" /> Loading {what}…
    </p>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <div class="empty">{children}</div>;
}

export function Success({ children }: { children: ComponentChildren }) {
  return (
    <p class="notice notice-success" role="status">
      {children}
    </p>
  );
}
