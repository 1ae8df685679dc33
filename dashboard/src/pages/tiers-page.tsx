import { useRef, useState } from "preact/hooks";
import { useApiClient } from "../api/context";
import { errorsAt, type FieldError } from "../api/errors";
import { deleteTierLadder, getTierLadder, putTierLadder } from "../api/points";
import type { TierLadder, TierLadderInput } from "../api/types";
import { Empty, ErrorNotice, Loading, Success } from "../components/feedback";
import { describedBy, Field } from "../components/fields";
import { DefinitionForm } from "../games/definition-form";
import { wholeNumber } from "../games/shared-fields";
import { useAction, useApi } from "../lib/use-api";
import { useConfirmInPlace } from "../lib/use-confirm-in-place";
import { ConfirmQuestion } from "../components/confirm-question";
import { WINDOW_LABELS } from "../points/tier-standing";
import { toMinute } from "./api-keys-page";

/** The API's MAX_TIER_LEVELS (src/domain/points-lifecycle.ts, not imported: it would bundle zod). */
const MAX_LEVELS = 20;
const TITLE_MAX = 200;

type Window = TierLadderInput["window"];
type Downgrade = TierLadderInput["downgrade"];
/** A level as typed: minPoints is text until it is sent. `key` keeps a row's inputs when rows above go. */
type LevelDraft = { key: number; tierId: string; title: string; minPoints: string };
type LadderDraft = { window: Window; downgrade: Downgrade; levels: LevelDraft[] };

const DOWNGRADE_LABELS: Record<Downgrade, string> = {
  never: "a member keeps the highest tier reached",
  end_of_window: "when a window ends, a member's tier follows what was earned in the new one",
};

let nextKey = 0;
const level = (tierId = "", title = "", minPoints = ""): LevelDraft => ({ key: ++nextKey, tierId, title, minPoints });

const draftOf = (ladder: TierLadder | null): LadderDraft =>
  ladder
    ? { window: ladder.window, downgrade: ladder.downgrade, levels: ladder.levels.map((l) => level(l.tierId, l.title, String(l.minPoints))) }
    : { window: "calendar_year", downgrade: "end_of_window", levels: [level()] };

/**
 * What the form checks before sending, at the API's paths: what the body's types need (a whole number, a title).
 * The ladder's rules (tier ids' characters, no two levels alike) are the API's: its 400 is shown at the field it names.
 */
function draftProblems(draft: LadderDraft): FieldError[] {
  const problems: FieldError[] = [];
  if (draft.levels.length === 0) problems.push({ path: "levels", message: "add at least one level" });
  draft.levels.forEach((l, i) => {
    if (l.tierId.trim() === "") problems.push({ path: `levels.${i}.tierId`, message: "required" });
    if (l.title.trim() === "") problems.push({ path: `levels.${i}.title`, message: "required" });
    const minPoints = wholeNumber(l.minPoints);
    if (!Number.isSafeInteger(minPoints) || minPoints < 0) problems.push({ path: `levels.${i}.minPoints`, message: "a whole number, 0 or more" });
  });
  return problems;
}

const toInput = (draft: LadderDraft): TierLadderInput => ({
  basis: "points_earned",
  window: draft.window,
  downgrade: draft.downgrade,
  levels: draft.levels.map((l) => ({ tierId: l.tierId.trim(), title: l.title.trim(), minPoints: wholeNumber(l.minPoints) })),
});

/** The project's tier ladder (PUT/GET/DELETE /v1/admin/tiers): edit it, save it, delete it. */
export function TiersPage() {
  const client = useApiClient();
  const ladder = useApi(() => getTierLadder(client), [client]);
  const [saved, setSaved] = useState<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const loaded = ladder.state !== "loading" || ladder.data !== null;

  return (
    <section>
      <h1 tabIndex={-1} ref={heading}>
        Tiers
      </h1>
      <p class="muted">
        A member's tier is the highest level whose minimum the points earned in the window reach (logs, challenge bonuses and positive adjustments; never
        redemptions, reversals or expiries), counted in the project's time zone (Settings). Below the lowest level a member has no tier. A tier acts as a
        usergroup for rewards: an event's <code>reward.gold</code> applies to members in tier <code>gold</code>. At most {MAX_LEVELS} levels.
      </p>
      {saved && <Success>{saved}</Success>}
      {ladder.failure && <ErrorNotice failure={ladder.failure} context="Could not load the tier ladder" />}
      {!loaded && <Loading what="the tier ladder" />}
      {loaded && !ladder.failure && (
        <>
          {ladder.data === null && <Empty>No tier ladder yet: members have no tier. Define the levels below and save.</Empty>}
          {ladder.data && (
            <p class="muted" data-testid="tiers-version">
              Version {ladder.data.version}
              {ladder.data.updatedAt ? `, changed ${toMinute(ladder.data.updatedAt)}` : ""}
            </p>
          )}
          {/* A new form per stored version: after a save it shows the ladder as stored (sorted by minPoints). */}
          <LadderForm
            key={ladder.data?.version ?? "none"}
            ladder={ladder.data}
            onSaved={(stored, created) => {
              setSaved(
                `Tier ladder ${created ? "created" : "saved"}: ${stored.levels.length} ${stored.levels.length === 1 ? "level" : "levels"}, version ${stored.version}.`,
              );
              ladder.reload();
              // The form is replaced by the stored ladder's: the focus goes to the page's heading, above the notice.
              heading.current?.focus();
            }}
          />
          {ladder.data && (
            <DeleteLadder
              onDeleted={() => {
                setSaved("Tier ladder deleted: members have no tier from now on.");
                ladder.reload();
                heading.current?.focus();
              }}
            />
          )}
        </>
      )}
    </section>
  );
}

function LadderForm({ ladder, onSaved }: { ladder: TierLadder | null; onSaved: (stored: TierLadder, created: boolean) => void }) {
  const client = useApiClient();
  const [draft, setDraft] = useState<LadderDraft>(() => draftOf(ladder));
  const addButton = useRef<HTMLButtonElement>(null);
  const setLevel = (i: number, changes: Partial<LevelDraft>) =>
    setDraft((d) => ({ ...d, levels: d.levels.map((l, j) => (j === i ? { ...l, ...changes } : l)) }));
  const full = draft.levels.length >= MAX_LEVELS;

  return (
    <DefinitionForm
      label="Tier ladder"
      creating={ladder === null}
      idParam="id"
      check={() => draftProblems(draft)}
      save={async () => onSaved(await putTierLadder(client, toInput(draft)), ladder === null)}
      onCancel={() => setDraft(draftOf(ladder))}
    >
      {(errors) => {
        const at = (path: string) => errorsAt(errors, path);
        const levelsOwn = errors.filter((e) => e.path === "levels");
        return (
          <>
            <div class="inline-fields">
              <Field id="tiers-basis" label="Basis" hint="Points earned (the only basis so far)" errors={at("basis")}>
                <select {...describedBy("tiers-basis", at("basis"), true)} value="points_earned">
                  <option value="points_earned">points_earned</option>
                </select>
              </Field>
              <Field id="tiers-window" label="Window" hint={`Points earned in ${WINDOW_LABELS[draft.window]} count`} errors={at("window")}>
                <select
                  {...describedBy("tiers-window", at("window"), true)}
                  value={draft.window}
                  onChange={(e) => setDraft({ ...draft, window: e.currentTarget.value as Window })}
                >
                  {(Object.keys(WINDOW_LABELS) as Window[]).map((w) => (
                    <option key={w} value={w}>
                      {w}
                    </option>
                  ))}
                </select>
              </Field>
              <Field id="tiers-downgrade" label="Downgrade" hint={DOWNGRADE_LABELS[draft.downgrade]} errors={at("downgrade")}>
                <select
                  {...describedBy("tiers-downgrade", at("downgrade"), true)}
                  value={draft.downgrade}
                  onChange={(e) => setDraft({ ...draft, downgrade: e.currentTarget.value as Downgrade })}
                >
                  {(Object.keys(DOWNGRADE_LABELS) as Downgrade[]).map((d) => (
                    <option key={d} value={d}>
                      {d}
                    </option>
                  ))}
                </select>
              </Field>
            </div>
            <fieldset class={levelsOwn.length > 0 ? "field-invalid" : ""} aria-describedby={levelsOwn.length > 0 ? "tiers-levels-error" : undefined}>
              <legend>Levels</legend>
              <p class="hint">Any order: they are stored by minimum points. The lowest may be 0 (everyone has a tier).</p>
              <ol class="tier-levels">
                {draft.levels.map((l, i) => {
                  const id = (name: string) => `tiers-level-${l.key}-${name}`;
                  const path = (name: string) => `levels.${i}.${name}`;
                  // Every row has the same visible labels; the level's number makes each name unique.
                  const ofLevel = <span class="visually-hidden"> of level {i + 1}</span>;
                  return (
                    <li key={l.key} class="tier-level" aria-label={`Level ${i + 1}`}>
                      <Field
                        id={id("tierId")}
                        label={<>Tier id{ofLevel}</>}
                        hint="Letters, digits, _ and -; the usergroup it acts as"
                        errors={at(path("tierId"))}
                      >
                        <input
                          {...describedBy(id("tierId"), at(path("tierId")), true)}
                          maxLength={64}
                          spellcheck={false}
                          autoComplete="off"
                          value={l.tierId}
                          onInput={(e) => setLevel(i, { tierId: e.currentTarget.value })}
                        />
                      </Field>
                      <Field id={id("title")} label={<>Title{ofLevel}</>} errors={at(path("title"))}>
                        <input
                          {...describedBy(id("title"), at(path("title")))}
                          maxLength={TITLE_MAX}
                          value={l.title}
                          onInput={(e) => setLevel(i, { title: e.currentTarget.value })}
                        />
                      </Field>
                      <Field id={id("minPoints")} label={<>Minimum points{ofLevel}</>} errors={at(path("minPoints"))}>
                        <input
                          {...describedBy(id("minPoints"), at(path("minPoints")))}
                          inputMode="numeric"
                          autoComplete="off"
                          value={l.minPoints}
                          onInput={(e) => setLevel(i, { minPoints: e.currentTarget.value })}
                        />
                      </Field>
                      <button
                        type="button"
                        class="secondary remove"
                        aria-label={`Remove level ${i + 1}${l.tierId ? ` (${l.tierId})` : ""}`}
                        disabled={draft.levels.length === 1}
                        onClick={() => {
                          setDraft((d) => ({ ...d, levels: d.levels.filter((_, j) => j !== i) }));
                          // The button goes with its row: the focus goes to "Add a level".
                          addButton.current?.focus();
                        }}
                      >
                        Remove
                      </button>
                    </li>
                  );
                })}
              </ol>
              <button
                type="button"
                class="secondary"
                ref={addButton}
                disabled={full}
                onClick={() => setDraft((d) => ({ ...d, levels: [...d.levels, level()] }))}
              >
                Add a level
              </button>{" "}
              {full && <small class="hint">At most {MAX_LEVELS} levels.</small>}
              {levelsOwn.length > 0 && (
                <small class="field-error" id="tiers-levels-error" role="alert">
                  {levelsOwn.map((e) => e.message).join("; ")}
                </small>
              )}
            </fieldset>
          </>
        );
      }}
    </DefinitionForm>
  );
}

/** Delete, after a question in place: Escape or "Keep it" dismisses it and puts the focus back. */
function DeleteLadder({ onDeleted }: { onDeleted: () => void }) {
  const client = useApiClient();
  const { confirming, ask, dismiss, keepIt, trigger } = useConfirmInPlace();
  const remove = useAction(async () => {
    await deleteTierLadder(client);
    onDeleted();
  });
  if (!confirming) {
    return (
      <button type="button" class="secondary" ref={trigger} onClick={ask}>
        Delete the ladder
      </button>
    );
  }
  return (
    <ConfirmQuestion
      label="Confirm deleting the tier ladder"
      question="Delete the tier ladder? Members have no tier from then on, and rewards for tiers stop applying."
      confirm="Yes, delete"
      confirming="Deleting…"
      class="card"
      pending={remove.pending}
      onConfirm={() => void remove.run()}
      keepIt={keepIt}
      onKeep={dismiss}
    >
      {remove.failure && <ErrorNotice failure={remove.failure} context="Could not delete the tier ladder" />}
    </ConfirmQuestion>
  );
}
