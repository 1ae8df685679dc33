import { useState } from "preact/hooks";
import { useApiClient } from "../api/context";
import { type ApiFailure, asFailure, errorsAt, type FieldError } from "../api/errors";
import { redeemPoints } from "../api/points";
import type { Redemption, RedemptionInput } from "../api/types";
import { ErrorNotice, Success } from "../components/feedback";
import { describedBy, Field } from "../components/fields";
import { formatNumber } from "../components/stat-card";
import { wholeNumber } from "../games/shared-fields";

/** The API's bounds on a redemption (src/routes/points.ts). */
const MAX_POINTS = 1_000_000_000_000;
const REASON_MAX = 500;
const REFERENCE_MAX = 200;

type RedeemDraft = { points: string; reason: string; reference: string };
const EMPTY_DRAFT: RedeemDraft = { points: "", reason: "", reference: "" };

/** Checks a draft like the API does, at the API's paths; whether the balance covers it is the API's call (422). */
function draftProblems(draft: RedeemDraft): FieldError[] {
  const problems: FieldError[] = [];
  const points = wholeNumber(draft.points);
  if (!Number.isSafeInteger(points) || points < 1 || points > MAX_POINTS)
    problems.push({ path: "points", message: `a whole number from 1 to ${formatNumber(MAX_POINTS)}` });
  if (draft.reason.trim() === "") problems.push({ path: "reason", message: "say why (the history shows it)" });
  else if (draft.reason.trim().length > REASON_MAX) problems.push({ path: "reason", message: `at most ${REASON_MAX} characters` });
  if (draft.reference.trim().length > REFERENCE_MAX) problems.push({ path: "reference", message: `at most ${REFERENCE_MAX} characters` });
  return problems;
}

const toInput = (draft: RedeemDraft): RedemptionInput => ({
  points: wholeNumber(draft.points),
  reason: draft.reason.trim(),
  ...(draft.reference.trim() ? { reference: draft.reference.trim() } : {}),
});

/**
 * Redeems a user's points. Each submission gets its own Idempotency-Key; submitting the same body again after it
 * failed (a lost answer, a 5xx) is a retry of that submission and reuses its key, so it cannot redeem twice.
 * Changing the form makes it a new submission with a new key.
 */
export function RedeemForm({ userId, onRedeemed }: { userId: string; onRedeemed: (redemption: Redemption) => void }) {
  const client = useApiClient();
  const [draft, setDraft] = useState<RedeemDraft>(EMPTY_DRAFT);
  const [problems, setProblems] = useState<FieldError[]>([]);
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const [saving, setSaving] = useState(false);
  // The submission in flight or last failed: its body and key.
  const [submission, setSubmission] = useState<{ body: string; key: string } | null>(null);
  const [redeemed, setRedeemed] = useState<{ redemption: Redemption; replayed: boolean; key: string } | null>(null);
  const errors = failure ? failure.fieldErrors : problems;
  const at = (path: string) => errorsAt(errors, path);
  const edit = (changes: Partial<RedeemDraft>) => setDraft({ ...draft, ...changes });
  // Submitting the failed submission's body again is a retry of it.
  const retrying = !saving && submission !== null && submission.body === JSON.stringify(toInput(draft));

  async function submit(event: Event) {
    event.preventDefault();
    const found = draftProblems(draft);
    setProblems(found);
    setFailure(null);
    setRedeemed(null);
    if (found.length > 0) return;
    const input = toInput(draft);
    const body = JSON.stringify(input);
    const key = submission?.body === body ? submission.key : `dashboard-${crypto.randomUUID()}`;
    setSubmission({ body, key });
    setSaving(true);
    try {
      const answer = await redeemPoints(client, userId, input, key);
      setSubmission(null);
      setDraft(EMPTY_DRAFT);
      setRedeemed({ ...answer, key });
      onRedeemed(answer.redemption);
    } catch (error) {
      setFailure(asFailure(error));
    } finally {
      setSaving(false);
    }
  }

  return (
    <section aria-labelledby="redeem-heading">
      <h2 id="redeem-heading">Redeem points</h2>
      <form class="form card" onSubmit={submit} noValidate aria-labelledby="redeem-heading">
        <div class="inline-fields">
          <Field id="redeem-points" label="Points" hint="Taken from the oldest points first" errors={at("points")}>
            <input
              {...describedBy("redeem-points", at("points"), true)}
              inputMode="numeric"
              autoComplete="off"
              value={draft.points}
              onInput={(e) => edit({ points: e.currentTarget.value })}
            />
          </Field>
          <Field id="redeem-reason" label="Reason" hint="As the history shows it, e.g. “10 EUR voucher”" errors={at("reason")}>
            <input
              {...describedBy("redeem-reason", at("reason"), true)}
              maxLength={REASON_MAX}
              value={draft.reason}
              onInput={(e) => edit({ reason: e.currentTarget.value })}
            />
          </Field>
          <Field id="redeem-reference" label="Reference (optional)" hint="Your own id for it: an order, a voucher" errors={at("reference")}>
            <input
              {...describedBy("redeem-reference", at("reference"), true)}
              maxLength={REFERENCE_MAX}
              value={draft.reference}
              onInput={(e) => edit({ reference: e.currentTarget.value })}
            />
          </Field>
        </div>
        <div class="form-actions">
          <button type="submit" disabled={saving}>
            {saving ? "Redeeming…" : retrying ? "Retry redemption" : "Redeem"}
          </button>
          {failure && <ErrorNotice failure={failure} context="Could not redeem" />}
        </div>
        <p class="muted idempotency-key" data-testid="redeem-idempotency-key">
          {submission ? (
            <>
              Idempotency-Key <code>{submission.key}</code>
              {saving
                ? ": sending…"
                : retrying
                  ? ": submitting again retries this redemption with the same key, so it redeems at most once."
                  : ": that was for the previous submission; the changed form gets a new key."}
            </>
          ) : redeemed ? (
            <>
              Sent with Idempotency-Key <code>{redeemed.key}</code>; the next redemption gets a new one.
            </>
          ) : (
            "Each redemption is sent with a new Idempotency-Key, so a retry never redeems twice."
          )}
        </p>
      </form>
      {redeemed && (
        <Success>
          Redeemed {formatNumber(redeemed.redemption.points)} points{redeemed.replayed ? " (a replay of the same redemption)" : ""}: the balance is now{" "}
          <span data-testid="redeemed-balance">{formatNumber(redeemed.redemption.balance)}</span>. Redemption <code>{redeemed.redemption.redemptionId}</code>.
        </Success>
      )}
    </section>
  );
}
