import { useLayoutEffect, useRef, useState } from "preact/hooks";

/**
 * A question asked in place of a destructive button ("Revoke", "Delete"): focus moves to its "Keep it" button
 * when it is asked and back to the button that asked when it is dismissed; Escape dismisses it wherever focus
 * is. Layout effects run in the commit that shows the question, so no key press can arrive before they do.
 */
export function useConfirmInPlace() {
  const [confirming, setConfirming] = useState(false);
  const keepIt = useRef<HTMLButtonElement>(null);
  const trigger = useRef<HTMLButtonElement>(null);
  const wasConfirming = useRef(false);
  useLayoutEffect(() => {
    if (confirming) keepIt.current?.focus();
    else if (wasConfirming.current) trigger.current?.focus();
    wasConfirming.current = confirming;
  }, [confirming]);
  useLayoutEffect(() => {
    if (!confirming) return;
    const dismiss = (e: KeyboardEvent) => {
      if (e.key === "Escape") setConfirming(false);
    };
    document.addEventListener("keydown", dismiss);
    return () => document.removeEventListener("keydown", dismiss);
  }, [confirming]);
  return { confirming, ask: () => setConfirming(true), dismiss: () => setConfirming(false), keepIt, trigger };
}
