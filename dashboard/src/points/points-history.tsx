import { useRef, useState } from "preact/hooks";
import { useApiClient } from "../api/context";
import { errorsAt, type FieldError } from "../api/errors";
import { listPointsHistory, reverseRedemption } from "../api/points";
import type { PointsHistoryEntry, Reversal } from "../api/types";
import { Empty, ErrorNotice, Loading, Success } from "../components/feedback";
import { describedBy, Field } from "../components/fields";
import { formatNumber } from "../components/stat-card";
import { toMinute } from "../pages/api-keys-page";
import { useAction, useApi } from "../lib/use-api";
import { useConfirmInPlace } from "../lib/use-confirm-in-place";

const ENTRIES_PER_PAGE = 20;
const REASON_MAX = 500;

/** How the balance moved: "+50", "−100", "—" for a tier change. */
const signedPoints = (entry: PointsHistoryEntry) =>
  entry.type === "tier" ? "—" : `${entry.points > 0 ? "+" : entry.points < 0 ? "−" : ""}${formatNumber(Math.abs(entry.points))}`;

const text = (value: unknown) => (typeof value === "string" && value !== "" ? value : null);

/** The entry's why: its reason, or what its details say (an earn's event, a tier move, an adjustment's amounts). */
function describeEntry(entry: PointsHistoryEntry): string {
  const details = entry.details ?? {};
  if (entry.type === "tier") return `${text(details.from) ?? "no tier"} → ${text(details.to) ?? "no tier"}${entry.reason ? ` (${entry.reason})` : ""}`;
  if (entry.reason) return entry.reason;
  if (entry.type === "earn") return text(details.eventId) ?? "";
  if (entry.type === "adjust" && typeof details.newAmount === "number") return `reward set to ${formatNumber(details.newAmount)}`;
  return "";
}

/**
 * The member's points history, newest first, paged by the API's cursor: every change of the balance with the
 * balance after it, and tier changes. A redemption can be reversed from its row. `version` reloads it (after a
 * redemption made elsewhere on the page).
 */
export function PointsHistory({ userId, version, onReversed }: { userId: string; version: number; onReversed: (reversal: Reversal) => void }) {
  const client = useApiClient();
  // The cursors of the pages after the first one, as far as the viewer went (the last one is the page shown).
  const [cursors, setCursors] = useState<string[]>([]);
  const [reversed, setReversed] = useState<Reversal | null>(null);
  const [reversals, setReversals] = useState(0);
  const heading = useRef<HTMLHeadingElement>(null);
  const cursor = cursors.at(-1);
  const history = useApi(
    () => listPointsHistory(client, userId, { limit: ENTRIES_PER_PAGE, ...(cursor ? { cursor } : {}) }),
    [client, userId, cursor, version, reversals],
  );
  const page = cursors.length;
  const entries = history.data?.entries ?? [];
  // Redemptions reversed on this page (a reversal is newer than its redemption: on an earlier page the API's 409 says so).
  const reversedIds = new Set(entries.filter((e) => e.type === "reverse" && e.reference).map((e) => e.reference!));

  return (
    <section aria-labelledby="points-history-heading">
      <h2 id="points-history-heading" tabIndex={-1} ref={heading}>
        Points history
      </h2>
      {reversed && (
        <Success>
          Reversed: {formatNumber(reversed.points)} points back for “{reversed.reason}”; the balance is now {formatNumber(reversed.balance)}.
        </Success>
      )}
      {history.failure && <ErrorNotice failure={history.failure} context="Could not load the points history" />}
      {history.state === "loading" && !history.data && <Loading what="the points history" />}
      {history.data && entries.length === 0 && <Empty>{page > 0 ? "No older entries." : "No points earned or spent yet."}</Empty>}
      {entries.length > 0 && (
        <div class="table-scroll">
          <table data-testid="points-history">
            <caption class="visually-hidden">Changes of the balance and the tier, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Type</th>
                <th scope="col">Points</th>
                <th scope="col">Balance after</th>
                <th scope="col">Reference</th>
                <th scope="col">Reason</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((entry) => (
                <tr key={entry.seq} data-seq={entry.seq} data-type={entry.type}>
                  <td>
                    <time dateTime={entry.at}>{toMinute(entry.at)}</time>
                  </td>
                  <td>
                    <span class={`badge ${entry.points > 0 ? "badge-ok" : entry.points < 0 ? "badge-warning" : "badge-off"}`} data-testid="history-type">
                      {entry.type}
                    </span>
                  </td>
                  <td class="number" data-testid="history-points">
                    {signedPoints(entry)}
                  </td>
                  <td class="number" data-testid="history-balance">
                    {formatNumber(entry.balanceAfter)}
                  </td>
                  <td>
                    {entry.reference ? <code class="details">{entry.reference}</code> : <span class="muted">—</span>}
                    {text(entry.details?.reference) && (
                      <div class="muted" title="The redemption's own reference">
                        {text(entry.details?.reference)}
                      </div>
                    )}
                  </td>
                  <td>
                    <span class="details">{describeEntry(entry)}</span>
                  </td>
                  <td>
                    {entry.type === "redeem" &&
                      entry.reference !== null &&
                      (reversedIds.has(entry.reference) ? (
                        <span class="muted">reversed</span>
                      ) : (
                        <ReverseRedemption
                          userId={userId}
                          redemptionId={entry.reference}
                          label={`the redemption of ${formatNumber(-entry.points)} points of ${toMinute(entry.at)}`}
                          onReversed={(reversal) => {
                            setReversed(reversal);
                            setReversals((n) => n + 1);
                            heading.current?.focus();
                            onReversed(reversal);
                          }}
                        />
                      ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {history.data && (page > 0 || history.data.nextCursor) && (
        <nav class="pager" aria-label="Points history pages">
          <button type="button" disabled={page === 0} onClick={() => setCursors(cursors.slice(0, -1))}>
            ← Newer
          </button>
          <span data-testid="points-history-page">Page {page + 1}</span>
          <button
            type="button"
            disabled={!history.data.nextCursor}
            onClick={() => history.data?.nextCursor && setCursors([...cursors, history.data.nextCursor])}
          >
            Older →
          </button>
        </nav>
      )}
    </section>
  );
}

/** Reverse, after a question in place that takes the reason: Escape or "Keep it" dismisses it and puts the focus back. */
function ReverseRedemption({
  userId,
  redemptionId,
  label,
  onReversed,
}: {
  userId: string;
  redemptionId: string;
  label: string;
  onReversed: (reversal: Reversal) => void;
}) {
  const client = useApiClient();
  const { confirming, ask, dismiss, keepIt, trigger } = useConfirmInPlace();
  const [reason, setReason] = useState("");
  const [problems, setProblems] = useState<FieldError[]>([]);
  const reverse = useAction(async (why: string) => onReversed(await reverseRedemption(client, userId, redemptionId, why)));
  const id = `reverse-${redemptionId.replace(/[^\w-]/g, "-")}`;
  const reasonErrors = errorsAt(reverse.failure?.fieldErrors ?? problems, "reason");

  if (!confirming) {
    return (
      <button type="button" class="secondary small" ref={trigger} onClick={ask} aria-label={`Reverse ${label}`}>
        Reverse
      </button>
    );
  }
  return (
    <form
      class="confirm"
      aria-label={`Confirm reversing ${label}`}
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        const why = reason.trim();
        const found = why === "" ? [{ path: "reason", message: "say why (the history shows it)" }] : [];
        setProblems(found);
        if (found.length === 0) void reverse.run(why);
      }}
    >
      <p>Give the points back to the balance? A redemption is reversed once.</p>
      <Field id={`${id}-reason`} label="Reason for the reversal" errors={reasonErrors}>
        <input
          {...describedBy(`${id}-reason`, reasonErrors)}
          maxLength={REASON_MAX}
          value={reason}
          placeholder="order cancelled"
          onInput={(e) => setReason(e.currentTarget.value)}
        />
      </Field>
      <div class="button-row">
        <button type="submit" class="danger" disabled={reverse.pending}>
          {reverse.pending ? "Reversing…" : "Yes, reverse"}
        </button>
        <button type="button" class="secondary" ref={keepIt} disabled={reverse.pending} onClick={dismiss}>
          Keep it
        </button>
      </div>
      {reverse.failure && <ErrorNotice failure={reverse.failure} context="Could not reverse" />}
    </form>
  );
}
