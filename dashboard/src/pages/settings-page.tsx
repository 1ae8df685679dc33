import { useRef, useState } from "preact/hooks";
import { useApiClient } from "../api/context";
import { errorsAt, type FieldError } from "../api/errors";
import { getPointsSettings, putPointsSettings } from "../api/points";
import type { PointsExpiry, PointsSettings, PointsSettingsInput } from "../api/types";
import { ErrorNotice, Loading, Success } from "../components/feedback";
import { describedBy, Field } from "../components/fields";
import { DefinitionForm } from "../games/definition-form";
import { wholeNumber } from "../games/shared-fields";
import { useApi } from "../lib/use-api";
import { toMinute } from "./api-keys-page";

type ExpiryMode = PointsExpiry["mode"];

/** The API's bounds (src/domain/points-lifecycle.ts PointsExpirySchema). */
const DAYS = { min: 1, max: 3_650 };
const YEARS = { min: 0, max: 10 };

const EXPIRY_MODES: Record<ExpiryMode, string> = {
  none: "Never",
  after_days: "A number of days after they were earned",
  end_of_year_after: "At the end of a year after the year they were earned",
};

/** Suggestions only: any IANA zone the runtime knows is accepted, and the API checks it. */
const COMMON_TIME_ZONES = [
  "UTC",
  "Europe/London",
  "Europe/Lisbon",
  "Europe/Berlin",
  "Europe/Paris",
  "Europe/Madrid",
  "Europe/Rome",
  "Europe/Amsterdam",
  "Europe/Zurich",
  "Europe/Vienna",
  "Europe/Warsaw",
  "Europe/Stockholm",
  "Europe/Athens",
  "Europe/Istanbul",
  "Europe/Moscow",
  "Africa/Cairo",
  "Africa/Johannesburg",
  "Africa/Lagos",
  "Asia/Dubai",
  "Asia/Kolkata",
  "Asia/Bangkok",
  "Asia/Singapore",
  "Asia/Shanghai",
  "Asia/Tokyo",
  "Asia/Seoul",
  "Australia/Sydney",
  "Pacific/Auckland",
  "America/Sao_Paulo",
  "America/Mexico_City",
  "America/New_York",
  "America/Chicago",
  "America/Denver",
  "America/Los_Angeles",
  "America/Toronto",
];

/** The form's state: days and years as typed, both kept while the mode changes. */
type SettingsDraft = { mode: ExpiryMode; days: string; years: string; timezone: string; userTokensMayRedeem: boolean };

const draftOf = (settings: PointsSettings): SettingsDraft => ({
  mode: settings.pointsExpiry.mode,
  days: settings.pointsExpiry.mode === "after_days" ? String(settings.pointsExpiry.days) : "365",
  years: settings.pointsExpiry.mode === "end_of_year_after" ? String(settings.pointsExpiry.years) : "1",
  timezone: settings.timezone,
  userTokensMayRedeem: settings.userTokensMayRedeem,
});

/** What the form checks before sending (whole numbers in the API's bounds); the time zone is the API's call. */
function draftProblems(draft: SettingsDraft): FieldError[] {
  const problems: FieldError[] = [];
  const inRange = (text: string, { min, max }: { min: number; max: number }) => {
    const value = wholeNumber(text);
    return Number.isSafeInteger(value) && value >= min && value <= max;
  };
  if (draft.mode === "after_days" && !inRange(draft.days, DAYS))
    problems.push({ path: "pointsExpiry.days", message: `a whole number from ${DAYS.min} to ${DAYS.max}` });
  if (draft.mode === "end_of_year_after" && !inRange(draft.years, YEARS))
    problems.push({ path: "pointsExpiry.years", message: `a whole number from ${YEARS.min} to ${YEARS.max}` });
  if (draft.timezone.trim() === "") problems.push({ path: "timezone", message: "required, e.g. UTC or Europe/Berlin" });
  return problems;
}

function expiryOf(draft: SettingsDraft): PointsExpiry {
  if (draft.mode === "after_days") return { mode: "after_days", days: wholeNumber(draft.days) };
  if (draft.mode === "end_of_year_after") return { mode: "end_of_year_after", years: wholeNumber(draft.years) };
  return { mode: "none" };
}

const toInput = (draft: SettingsDraft): PointsSettingsInput => ({
  pointsExpiry: expiryOf(draft),
  timezone: draft.timezone.trim(),
  userTokensMayRedeem: draft.userTokensMayRedeem,
});

/** The project's points settings (PUT/GET /v1/admin/project/settings): expiry, time zone, user-token redemptions. */
export function SettingsPage() {
  const client = useApiClient();
  const settings = useApi(() => getPointsSettings(client), [client]);
  const [saved, setSaved] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);

  return (
    <section>
      <h1 tabIndex={-1} ref={heading}>
        Settings
      </h1>
      {saved && <Success>Settings saved.</Success>}
      {settings.failure && <ErrorNotice failure={settings.failure} context="Could not load the settings" />}
      {settings.state === "loading" && !settings.data && <Loading what="the settings" />}
      {settings.data && (
        <>
          <p class="muted" data-testid="settings-version">
            Version {settings.data.version} ·{" "}
            {settings.data.updatedAt ? `changed ${toMinute(settings.data.updatedAt)}` : "never set: the defaults are in force"}
          </p>
          {/* A new form per stored version: after a save it shows the settings as stored (the zone's canonical name). */}
          <SettingsForm
            key={`${settings.data.version}-${settings.data.updatedAt ?? ""}`}
            settings={settings.data}
            onSaved={() => {
              setSaved(true);
              settings.reload();
              // The form is replaced by the stored settings': the focus goes to the page's heading, above the notice.
              heading.current?.focus();
            }}
          />
        </>
      )}
    </section>
  );
}

function SettingsForm({ settings, onSaved }: { settings: PointsSettings; onSaved: () => void }) {
  const client = useApiClient();
  const [draft, setDraft] = useState<SettingsDraft>(() => draftOf(settings));

  return (
    <DefinitionForm
      label="Points settings"
      creating={false}
      idParam="id"
      check={() => draftProblems(draft)}
      save={async () => {
        await putPointsSettings(client, toInput(draft));
        onSaved();
      }}
      onCancel={() => setDraft(draftOf(settings))}
    >
      {(errors) => {
        const at = (path: string) => errorsAt(errors, path);
        const expiryOwn = errors.filter((e) => e.path === "pointsExpiry" || e.path === "pointsExpiry.mode");
        return (
          <>
            <fieldset>
              <legend>Points expiry</legend>
              <p class="hint" id="settings-expiry-mode-hint">
                A change applies to points earned from now on: points already earned keep their dates. Dates fall on midnights in the time zone below.
              </p>
              <div class="inline-fields">
                <Field id="settings-expiry-mode" label="Points expire" errors={expiryOwn}>
                  <select
                    {...describedBy("settings-expiry-mode", expiryOwn, true)}
                    value={draft.mode}
                    onChange={(e) => setDraft({ ...draft, mode: e.currentTarget.value as ExpiryMode })}
                  >
                    {(Object.keys(EXPIRY_MODES) as ExpiryMode[]).map((mode) => (
                      <option key={mode} value={mode}>
                        {EXPIRY_MODES[mode]}
                      </option>
                    ))}
                  </select>
                </Field>
                {draft.mode === "after_days" && (
                  <Field
                    id="settings-expiry-days"
                    label="Days"
                    hint={`${DAYS.min} to ${DAYS.max}: earned on 10 January with 30, usable through 9 February`}
                    errors={at("pointsExpiry.days")}
                  >
                    <input
                      {...describedBy("settings-expiry-days", at("pointsExpiry.days"), true)}
                      inputMode="numeric"
                      autoComplete="off"
                      value={draft.days}
                      onInput={(e) => setDraft({ ...draft, days: e.currentTarget.value })}
                    />
                  </Field>
                )}
                {draft.mode === "end_of_year_after" && (
                  <Field
                    id="settings-expiry-years"
                    label="Years"
                    hint={`${YEARS.min} to ${YEARS.max}: earned in 2026 with 1, usable through 31 December 2027; with 0, through the end of the year earned`}
                    errors={at("pointsExpiry.years")}
                  >
                    <input
                      {...describedBy("settings-expiry-years", at("pointsExpiry.years"), true)}
                      inputMode="numeric"
                      autoComplete="off"
                      value={draft.years}
                      onInput={(e) => setDraft({ ...draft, years: e.currentTarget.value })}
                    />
                  </Field>
                )}
              </div>
            </fieldset>
            <Field
              id="settings-timezone"
              label="Time zone"
              hint="IANA name, e.g. Europe/Berlin: cuts expiry dates and tier windows into days and years"
              errors={at("timezone")}
              class="narrow"
            >
              <input
                {...describedBy("settings-timezone", at("timezone"), true)}
                list="settings-timezones"
                spellcheck={false}
                autoComplete="off"
                value={draft.timezone}
                onInput={(e) => setDraft({ ...draft, timezone: e.currentTarget.value })}
              />
              <datalist id="settings-timezones">
                {COMMON_TIME_ZONES.map((zone) => (
                  <option key={zone} value={zone} />
                ))}
              </datalist>
            </Field>
            <div class="field checkbox">
              <input
                id="settings-user-tokens-may-redeem"
                type="checkbox"
                aria-describedby="settings-user-tokens-may-redeem-hint"
                checked={draft.userTokensMayRedeem}
                onChange={(e) => setDraft({ ...draft, userTokensMayRedeem: e.currentTarget.checked })}
              />
              <label for="settings-user-tokens-may-redeem">User tokens may redeem</label>
              <small class="hint" id="settings-user-tokens-may-redeem-hint">
                (a member's own token may then spend the member's own points; admins and <code>points:redeem</code> keys always may)
              </small>
            </div>
          </>
        );
      }}
    </DefinitionForm>
  );
}
