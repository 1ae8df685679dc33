import { useEffect, useRef, useState } from "preact/hooks";
import { API_KEY_SCOPES, SCOPE_DESCRIPTIONS, type Scope } from "../../../src/domain/scopes";
import { createApiKey, listApiKeys, revokeApiKey } from "../api/api-keys";
import { useApiClient } from "../api/context";
import { errorsAt, type FieldError } from "../api/errors";
import type { ApiKey, ApiKeyInput, CreatedApiKey } from "../api/types";
import { Empty, ErrorNotice, Loading } from "../components/feedback";
import { describedBy, Field } from "../components/fields";
import { ShownOnce } from "../components/shown-once";
import { DefinitionForm } from "../games/definition-form";
import { useAction, useApi } from "../lib/use-api";
import { useConfirmInPlace } from "../lib/use-confirm-in-place";
import { ConfirmQuestion } from "../components/confirm-question";

/** The API's limits on a key (the form checks them before sending). */
const NAME_MAX = 100;
const ORIGINS_MAX = 20;

/** An instant as `2026-05-04 13:07 UTC` (the API keeps a key's last use to the minute). */
export function toMinute(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** The origins typed one per line or comma separated: trimmed, without a trailing slash, each once. */
export function parseOrigins(text: string): string[] {
  const origins = text
    .split(/[\s,]+/)
    .map((o) => o.trim().replace(/\/$/, ""))
    .filter(Boolean);
  return [...new Set(origins)];
}

/** An origin is a scheme, a host and maybe a port: `https://shop.example.com`, `http://localhost:3000`. */
const isOrigin = (text: string): boolean => {
  try {
    const url = new URL(text);
    return (url.protocol === "https:" || url.protocol === "http:") && url.origin === text;
  } catch {
    return false;
  }
};

type KeyDraft = { name: string; scopes: Scope[]; origins: string; expiresOn: string };
const EMPTY_DRAFT: KeyDraft = { name: "", scopes: [], origins: "", expiresOn: "" };

/** The chosen expiry day (YYYY-MM-DD): the key works through the end of that day, UTC. */
const endOfDay = (day: string) => `${day}T23:59:59.000Z`;
const today = () => new Date().toISOString().slice(0, 10);

/** Checks a draft like the API does; `allowedOrigins` and `expiresAt` are the API's field names. */
function draftProblems(draft: KeyDraft): FieldError[] {
  const problems: FieldError[] = [];
  const name = draft.name.trim();
  if (name === "") problems.push({ path: "name", message: "required" });
  else if (name.length > NAME_MAX) problems.push({ path: "name", message: `at most ${NAME_MAX} characters` });
  if (draft.scopes.length === 0) problems.push({ path: "scopes", message: "choose at least one scope" });
  const origins = parseOrigins(draft.origins);
  const bad = origins.filter((o) => !isOrigin(o));
  if (bad.length > 0)
    problems.push({ path: "allowedOrigins", message: `not an origin (scheme, host and port only, like https://shop.example.com): ${bad.join(", ")}` });
  else if (origins.length > ORIGINS_MAX) problems.push({ path: "allowedOrigins", message: `at most ${ORIGINS_MAX} origins` });
  if (draft.expiresOn !== "") {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(draft.expiresOn) || Number.isNaN(Date.parse(endOfDay(draft.expiresOn))))
      problems.push({ path: "expiresAt", message: "a date like 2026-12-31" });
    else if (Date.parse(endOfDay(draft.expiresOn)) <= Date.now()) problems.push({ path: "expiresAt", message: "must be in the future" });
  }
  return problems;
}

function toInput(draft: KeyDraft): ApiKeyInput {
  const origins = parseOrigins(draft.origins);
  // In the order the form lists them, whatever order they were ticked in.
  const scopes = API_KEY_SCOPES.filter((scope) => draft.scopes.includes(scope));
  return {
    name: draft.name.trim(),
    scopes,
    ...(origins.length > 0 ? { allowedOrigins: origins } : {}),
    ...(draft.expiresOn !== "" ? { expiresAt: endOfDay(draft.expiresOn) } : {}),
  };
}

export function ApiKeysPage() {
  const client = useApiClient();
  const keys = useApi(() => listApiKeys(client), [client]);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<CreatedApiKey | null>(null);

  return (
    <section>
      <div class="page-heading">
        <h1>API keys</h1>
        <button type="button" onClick={() => setCreating(true)}>
          New key
        </button>
      </div>
      <p class="muted">
        Server keys act in this project with the scopes they hold; send one as the <code>X-API-Key</code> header. A new key can be given only scopes its creator
        holds.
      </p>
      {created && <NewKeyNotice created={created} onDone={() => setCreated(null)} />}
      {creating && (
        <ApiKeyForm
          onCancel={() => setCreating(false)}
          onCreated={(key) => {
            setCreating(false);
            setCreated(key);
            keys.reload();
          }}
        />
      )}
      {keys.failure && <ErrorNotice failure={keys.failure} context="Could not load the API keys" />}
      {keys.state === "loading" && !keys.data && <Loading what="API keys" />}
      {keys.data && keys.data.length === 0 && <Empty>No API keys yet: create one for a backend, or for a site bound to its origins.</Empty>}
      {keys.data && keys.data.length > 0 && <ApiKeysTable keys={keys.data} onRevoked={keys.reload} />}
    </section>
  );
}

/** The form: name, a checkbox per scope with what it allows, allowed origins, an optional expiry day. */
function ApiKeyForm({ onCreated, onCancel }: { onCreated: (key: CreatedApiKey) => void; onCancel: () => void }) {
  const client = useApiClient();
  const [draft, setDraft] = useState<KeyDraft>(EMPTY_DRAFT);
  const nameInput = useRef<HTMLInputElement>(null);
  useEffect(() => nameInput.current?.focus(), []);
  const toggleScope = (scope: Scope, on: boolean) => setDraft({ ...draft, scopes: on ? [...draft.scopes, scope] : draft.scopes.filter((s) => s !== scope) });

  return (
    <DefinitionForm
      label="New API key"
      creating
      idParam="id"
      check={() => draftProblems(draft)}
      save={async () => onCreated(await createApiKey(client, toInput(draft)))}
      onCancel={onCancel}
    >
      {(errors) => {
        const at = (path: string) => errorsAt(errors, path);
        const scopeErrors = at("scopes");
        return (
          <>
            <Field id="api-key-name" label="Name" hint="Who or what uses it, e.g. “checkout backend”" errors={at("name")}>
              <input
                {...describedBy("api-key-name", at("name"), true)}
                ref={nameInput}
                maxLength={NAME_MAX}
                value={draft.name}
                onInput={(e) => setDraft({ ...draft, name: e.currentTarget.value })}
              />
            </Field>
            <fieldset class={scopeErrors.length > 0 ? "field-invalid" : ""} aria-describedby={scopeErrors.length > 0 ? "api-key-scopes-error" : undefined}>
              <legend>Scopes</legend>
              <ul class="scope-list">
                {API_KEY_SCOPES.map((scope) => {
                  const id = `api-key-scope-${scope.replace(/[^\w-]/g, "-")}`;
                  return (
                    <li key={scope} class="field checkbox">
                      <input
                        id={id}
                        type="checkbox"
                        aria-describedby={`${id}-hint`}
                        checked={draft.scopes.includes(scope)}
                        onChange={(e) => toggleScope(scope, e.currentTarget.checked)}
                      />
                      <span>
                        <label for={id}>
                          <code>{scope}</code>
                        </label>{" "}
                        <small class="hint" id={`${id}-hint`}>
                          {SCOPE_DESCRIPTIONS[scope]}
                        </small>
                      </span>
                    </li>
                  );
                })}
              </ul>
              {scopeErrors.length > 0 && (
                <small class="field-error" id="api-key-scopes-error" role="alert">
                  {scopeErrors.map((e) => e.message).join("; ")}
                </small>
              )}
            </fieldset>
            <div class="inline-fields">
              <Field
                id="api-key-origins"
                label="Allowed origins (optional)"
                hint={`Binds the key to these sites: browsers may use it from them only. One per line or comma separated, at most ${ORIGINS_MAX}; leave empty for a server key.`}
                errors={at("allowedOrigins")}
              >
                <textarea
                  {...describedBy("api-key-origins", at("allowedOrigins"), true)}
                  rows={3}
                  placeholder="https://shop.example.com"
                  value={draft.origins}
                  onInput={(e) => setDraft({ ...draft, origins: e.currentTarget.value })}
                />
              </Field>
              <Field
                id="api-key-expiry"
                label="Expires on (optional)"
                hint="The key works through the end of this day (UTC); empty: it does not expire"
                errors={at("expiresAt")}
              >
                <input
                  {...describedBy("api-key-expiry", at("expiresAt"), true)}
                  type="date"
                  min={today()}
                  value={draft.expiresOn}
                  onInput={(e) => setDraft({ ...draft, expiresOn: e.currentTarget.value })}
                />
              </Field>
            </div>
          </>
        );
      }}
    </DefinitionForm>
  );
}

/** The new key, once: the API keeps only its hash, so this is the only time anyone sees it. */
function NewKeyNotice({ created, onDone }: { created: CreatedApiKey; onDone: () => void }) {
  return (
    <ShownOnce
      id="new-key"
      testId="new-api-key"
      title={<>Key “{created.name}” created</>}
      warning={
        <>
          <strong>Copy it now:</strong> it will not be shown again. Only its hash is stored, so it cannot be looked up later; if it is lost, create a new key
          and revoke this one.
        </>
      }
      label="Your new key"
      hint="Keep it in a secret store, never in a page's source (unless it is bound to allowed origins)"
      value={created.key}
      noun="key"
      onDone={onDone}
    />
  );
}

function ApiKeysTable({ keys, onRevoked }: { keys: ApiKey[]; onRevoked: () => void }) {
  return (
    <div class="table-scroll">
      <table data-testid="api-keys-table">
        <caption class="visually-hidden">Active API keys</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Prefix</th>
            <th scope="col">Scopes</th>
            <th scope="col">Allowed origins</th>
            <th scope="col">Expires</th>
            <th scope="col">Last used</th>
            <th scope="col">Created</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {keys.map((key) => (
            <ApiKeyRow key={key.id} apiKey={key} onRevoked={onRevoked} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function ApiKeyRow({ apiKey, onRevoked }: { apiKey: ApiKey; onRevoked: () => void }) {
  const client = useApiClient();
  const { confirming, ask, dismiss, keepIt, trigger: revokeButton } = useConfirmInPlace();
  const revoke = useAction(async () => {
    await revokeApiKey(client, apiKey.id);
    onRevoked();
  });
  const expired = apiKey.expiresAt !== null && Date.parse(apiKey.expiresAt) <= Date.now();
  const label = `${apiKey.name} (${apiKey.keyPrefix}…)`;

  return (
    <tr data-key-id={apiKey.id}>
      <th scope="row">{apiKey.name}</th>
      <td>
        <code>{apiKey.keyPrefix}…</code>
      </td>
      <td>
        <ul class="inline-list" data-testid="key-scopes">
          {apiKey.scopes.map((scope) => (
            <li key={scope}>
              <code title={SCOPE_DESCRIPTIONS[scope]}>{scope}</code>
            </li>
          ))}
        </ul>
      </td>
      <td data-testid="key-origins">
        {apiKey.allowedOrigins.length === 0 ? (
          <span class="muted">any (not bound)</span>
        ) : (
          <ul class="inline-list">
            {apiKey.allowedOrigins.map((origin) => (
              <li key={origin}>{origin}</li>
            ))}
          </ul>
        )}
      </td>
      <td data-testid="key-expires">
        {apiKey.expiresAt === null ? <span class="muted">never</span> : toMinute(apiKey.expiresAt)}
        {expired && (
          <>
            {" "}
            <span class="badge badge-off">expired</span>
          </>
        )}
      </td>
      <td data-testid="key-last-used">{apiKey.lastUsedAt === null ? <span class="muted">never</span> : toMinute(apiKey.lastUsedAt)}</td>
      <td>{toMinute(apiKey.createdAt)}</td>
      <td>
        {confirming ? (
          <ConfirmQuestion
            label={`Confirm revoking ${label}`}
            question="Revoke it? Anything using it is refused at once; this cannot be undone."
            confirm="Yes, revoke"
            confirming="Revoking…"
            pending={revoke.pending}
            onConfirm={() => void revoke.run()}
            keepIt={keepIt}
            onKeep={dismiss}
          />
        ) : (
          <button type="button" class="secondary" ref={revokeButton} onClick={ask} aria-label={`Revoke ${label}`}>
            Revoke
          </button>
        )}
        {revoke.failure && <ErrorNotice failure={revoke.failure} context={`Could not revoke ${apiKey.name}`} />}
      </td>
    </tr>
  );
}
