import type { ComponentChildren } from "preact";
import { useLayoutEffect, useRef, useState } from "preact/hooks";
import { describedBy, Field } from "./fields";

type ShownOnceProps = {
  /** Prefix of the element ids: `<id>-heading`, `<id>-value`. */
  id: string;
  testId: string;
  title: ComponentChildren;
  headingClass?: string;
  /** What the warning says after "Copy … now:". */
  warning: ComponentChildren;
  label: string;
  hint: string;
  value: string;
  /** "key" or "secret": the copy button's and the status's word. */
  noun: string;
  onDone: () => void;
};

/**
 * A credential the API shows once (a new API key, a webhook signing secret): focused when it appears, with a copy
 * button that falls back to selecting the text when the clipboard is out of reach, and "I have stored it".
 */
export function ShownOnce({ id, testId, title, headingClass, warning, label, hint, value, noun, onDone }: ShownOnceProps) {
  const heading = useRef<HTMLHeadingElement>(null);
  const field = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<"yes" | "no" | null>(null);
  useLayoutEffect(() => heading.current?.focus(), [value]);

  async function copy() {
    try {
      await navigator.clipboard.writeText(value);
      setCopied("yes");
    } catch {
      // No clipboard access (permission, an insecure origin): select it for a keyboard copy instead.
      field.current?.select();
      setCopied("no");
    }
  }

  return (
    <section class="card new-key" aria-labelledby={`${id}-heading`} data-testid={testId}>
      <h2 id={`${id}-heading`} tabIndex={-1} ref={heading} class={headingClass}>
        {title}
      </h2>
      <p class="notice notice-warning">{warning}</p>
      <Field id={`${id}-value`} label={label} hint={hint}>
        <input
          {...describedBy(`${id}-value`, [], true)}
          ref={field}
          readOnly
          value={value}
          spellcheck={false}
          autoComplete="off"
          onFocus={(e) => e.currentTarget.select()}
        />
      </Field>
      <div class="button-row">
        <button type="button" onClick={() => void copy()}>
          Copy {noun}
        </button>
        <button type="button" class="secondary" onClick={onDone}>
          I have stored it
        </button>
        <span role="status" class="muted">
          {copied === "yes"
            ? "Copied to the clipboard."
            : copied === "no"
              ? `Could not reach the clipboard: the ${noun} is selected, press Ctrl+C (⌘C) to copy it.`
              : ""}
        </span>
      </div>
    </section>
  );
}
