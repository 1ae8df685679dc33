/** Previous/next paging over a total: "Page 2 of 7 · 134 entries". Pages are 0-based like the API's. */
export function Pager({ page, size, total, onPage }: { page: number; size: number; total: number; onPage: (page: number) => void }) {
  const pages = Math.max(1, Math.ceil(total / size));
  return (
    <nav class="pager" aria-label="Pages">
      <button type="button" onClick={() => onPage(page - 1)} disabled={page <= 0}>
        ← Previous
      </button>
      <span data-testid="pager-status">
        Page {Math.min(page + 1, pages)} of {pages} · {total} {total === 1 ? "entry" : "entries"}
      </span>
      <button type="button" onClick={() => onPage(page + 1)} disabled={page + 1 >= pages}>
        Next →
      </button>
    </nav>
  );
}
