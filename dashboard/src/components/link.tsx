import type { ComponentChildren } from "preact";
import { BASE, navigate } from "../lib/router";

/** A link to a page of the app: a real href (open in a new tab works), client-side navigation on a plain click. */
export function Link({ to, children, class: className, current }: { to: string; children: ComponentChildren; class?: string; current?: boolean }) {
  return (
    <a
      href={`${BASE}${to}`}
      class={className}
      aria-current={current ? "page" : undefined}
      onClick={(e) => {
        if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
        e.preventDefault();
        navigate(to);
      }}
    >
      {children}
    </a>
  );
}
