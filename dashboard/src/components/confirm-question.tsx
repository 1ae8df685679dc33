import type { ComponentChildren, Ref } from "preact";

type ConfirmQuestionProps = {
  /** The group's accessible name ("Confirm deleting …"). */
  label: string;
  question: string;
  /** The destructive button's text, and its text while the action runs. */
  confirm: string;
  confirming: string;
  class?: string;
  pending: boolean;
  onConfirm: () => void;
  /** "Keep it": the ref useConfirmInPlace focuses, and what dismisses the question. */
  keepIt: Ref<HTMLButtonElement>;
  onKeep: () => void;
  children?: ComponentChildren;
};

/** The question asked in place of a destructive button (with useConfirmInPlace): a group with "Yes, …" and "Keep it". */
export function ConfirmQuestion({
  label,
  question,
  confirm,
  confirming,
  class: className,
  pending,
  onConfirm,
  keepIt,
  onKeep,
  children,
}: ConfirmQuestionProps) {
  return (
    <fieldset aria-label={label} class={className ? `confirm ${className}` : "confirm"}>
      <p>{question}</p>
      <div class="button-row">
        <button type="button" class="danger" disabled={pending} onClick={onConfirm}>
          {pending ? confirming : confirm}
        </button>
        <button type="button" class="secondary" ref={keepIt} disabled={pending} onClick={onKeep}>
          Keep it
        </button>
      </div>
      {children}
    </fieldset>
  );
}
