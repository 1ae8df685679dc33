import { useLayoutEffect, useRef, useState } from "preact/hooks";
import { useApiClient } from "../api/context";
import { errorsAt, type FieldError } from "../api/errors";
import type { CreatedWebhookEndpoint, WebhookDelivery, WebhookDeliveryStatus, WebhookEndpoint, WebhookEventType } from "../api/types";
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  listWebhookDeliveries,
  listWebhookEndpoints,
  retryWebhookDelivery,
  rotateWebhookSecret,
  sendWebhookTest,
  updateWebhookEndpoint,
} from "../api/webhooks";
import { Empty, ErrorNotice, Loading, Success } from "../components/feedback";
import { describedBy, Field } from "../components/fields";
import { ShownOnce } from "../components/shown-once";
import { DefinitionForm } from "../games/definition-form";
import { useAction, useApi } from "../lib/use-api";
import { useConfirmInPlace } from "../lib/use-confirm-in-place";
import { ConfirmQuestion } from "../components/confirm-question";
import { toMinute } from "./api-keys-page";

/** The API's limits on an endpoint (the form checks them before sending). */
const URL_MAX = 2_000;
const DESCRIPTION_MAX = 500;
const ENDPOINTS_MAX = 20;
const DELIVERIES_PER_PAGE = 20;

/**
 * What each event type tells a receiver (README "Webhooks"), in the API's order. Typed by the API's own list of
 * types, so a type added there does not compile here until it is described.
 */
const EVENT_TYPES: Record<WebhookEventType, { description: string; loud?: true }> = {
  "event.logged": { description: "Every logged event, whatever it awarded: one delivery per log.", loud: true },
  "points.awarded": { description: "A log or a challenge bonus that awarded points." },
  "limit.reached": { description: "A log that hit its event's limit (it awarded nothing)." },
  "streak.extended": { description: "A log that added a period to a streak." },
  "challenge.completed": { description: "A user completed a challenge period (once per user and period)." },
  "leaderboard.period_closed": { description: "A leaderboard period closed, with its final top 10 (once per period)." },
  "reward.adjusted": { description: "A reward set to a new amount: a refund or a correction." },
  "points.redeemed": { description: "A user's points were redeemed." },
  "points.expired": { description: "A user's points expired (at their lots' date)." },
  "tier.changed": { description: "A user moved to another tier (up on earning, down when a window ended)." },
};
const EVENT_TYPE_ORDER = Object.keys(EVENT_TYPES) as WebhookEventType[];

const DELIVERY_STATUSES: readonly WebhookDeliveryStatus[] = ["pending", "succeeded", "failed"];
const STATUS_BADGES: Record<WebhookDeliveryStatus, string> = { pending: "badge-warning", succeeded: "badge-ok", failed: "badge-error" };

/** An instant to the second, `2026-05-04 13:07:05 UTC` (deliveries follow each other within seconds). */
const toSecond = (iso: string) => {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : `${date.toISOString().slice(0, 19).replace("T", " ")} UTC`;
};

/** A DOM id from an endpoint's id (or "new" for the create form). */
const domId = (text: string) => text.replace(/[^\w-]/g, "-");

type EndpointDraft = { url: string; description: string; eventTypes: WebhookEventType[]; enabled: boolean };
const EMPTY_DRAFT: EndpointDraft = { url: "", description: "", eventTypes: [], enabled: true };

/**
 * Checks a draft before sending: what any URL must be, and the API's limits. Whether a URL is allowed (https,
 * a public host; loopback only in development) is the API's call: its 400 is shown at the URL field.
 */
function draftProblems(draft: EndpointDraft): FieldError[] {
  const problems: FieldError[] = [];
  const url = draft.url.trim();
  if (url === "") problems.push({ path: "url", message: "required" });
  else if (url.length > URL_MAX) problems.push({ path: "url", message: `at most ${URL_MAX} characters` });
  else if (!/^https?:\/\/[^/]/i.test(url) || !URL.canParse(url))
    problems.push({ path: "url", message: "an absolute URL such as https://example.com/webhooks" });
  if (draft.eventTypes.length === 0) problems.push({ path: "eventTypes", message: "choose at least one event type" });
  if (draft.description.trim().length > DESCRIPTION_MAX) problems.push({ path: "description", message: `at most ${DESCRIPTION_MAX} characters` });
  return problems;
}

/** The draft's fields as the API takes them; event types in the order the form lists them. */
const draftFields = (draft: EndpointDraft) => ({
  url: draft.url.trim(),
  eventTypes: EVENT_TYPE_ORDER.filter((type) => draft.eventTypes.includes(type)),
  description: draft.description.trim(),
});

export function WebhooksPage() {
  const client = useApiClient();
  const endpoints = useApi(() => listWebhookEndpoints(client), [client]);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<CreatedWebhookEndpoint | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const full = (endpoints.data?.length ?? 0) >= ENDPOINTS_MAX;

  return (
    <section>
      <div class="page-heading">
        <h1 tabIndex={-1} ref={heading}>
          Webhooks
        </h1>
        <button
          type="button"
          onClick={() => setCreating(true)}
          disabled={creating || full}
          title={full ? `At most ${ENDPOINTS_MAX} endpoints per project` : undefined}
        >
          New endpoint
        </button>
      </div>
      <p class="muted">
        Endpoints receive the events they subscribe to as signed JSON POSTs (Standard Webhooks: verify them with any <code>standardwebhooks</code> library and
        the endpoint's secret). Failed deliveries are retried for up to 3 days with the same <code>webhook-id</code>; an endpoint answering 410, or failing for
        3 days, is disabled. At most {ENDPOINTS_MAX} endpoints per project.
      </p>
      {created && (
        <SecretNotice
          idPrefix="created"
          title={`Endpoint ${created.url} created`}
          secret={created.secret}
          onDone={() => setCreated(null)}
          note="Receivers verify every delivery with it. Only this page shows it: it is stored encrypted and cannot be read back; if it is lost, rotate the secret."
        />
      )}
      {creating && (
        <EndpointForm
          endpoint={null}
          onCancel={() => setCreating(false)}
          submit={async (fields, enabled) => {
            const endpoint = await createWebhookEndpoint(client, { ...fields, enabled });
            setCreating(false);
            setCreated(endpoint);
            endpoints.reload();
          }}
        />
      )}
      {endpoints.failure && <ErrorNotice failure={endpoints.failure} context="Could not load the webhook endpoints" />}
      {endpoints.state === "loading" && !endpoints.data && <Loading what="webhook endpoints" />}
      {endpoints.data && endpoints.data.length === 0 && (
        <Empty>No webhook endpoints yet: create one to hear about completed challenges, awarded points and more.</Empty>
      )}
      {endpoints.data && endpoints.data.length > 0 && (
        <ul class="endpoint-list" aria-label="Webhook endpoints">
          {endpoints.data.map((endpoint) => (
            <li key={endpoint.id}>
              <EndpointCard
                endpoint={endpoint}
                onChanged={endpoints.reload}
                onDeleted={() => {
                  endpoints.reload();
                  heading.current?.focus();
                }}
              />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

type EndpointFields = ReturnType<typeof draftFields>;

/**
 * Create (endpoint null) or edit an endpoint: URL, description, a checkbox per event type with what it sends,
 * and (creating) whether it starts enabled. `submit` sends it; what the API refuses is shown at its field.
 */
function EndpointForm(props: { endpoint: WebhookEndpoint | null; submit: (fields: EndpointFields, enabled: boolean) => Promise<void>; onCancel: () => void }) {
  const { endpoint } = props;
  const [draft, setDraft] = useState<EndpointDraft>(
    endpoint ? { url: endpoint.url, description: endpoint.description, eventTypes: endpoint.eventTypes, enabled: endpoint.enabled } : EMPTY_DRAFT,
  );
  const urlInput = useRef<HTMLInputElement>(null);
  useLayoutEffect(() => urlInput.current?.focus(), []);
  const prefix = `webhook-${domId(endpoint?.id ?? "new")}`;
  const toggleType = (type: WebhookEventType, on: boolean) =>
    setDraft((d) => ({ ...d, eventTypes: on ? [...d.eventTypes, type] : d.eventTypes.filter((t) => t !== type) }));

  return (
    <DefinitionForm
      label={endpoint ? `Edit endpoint ${endpoint.url}` : "New webhook endpoint"}
      creating={!endpoint}
      idParam="id"
      check={() => draftProblems(draft)}
      save={() => props.submit(draftFields(draft), draft.enabled)}
      onCancel={props.onCancel}
    >
      {(errors) => {
        const at = (path: string) => errorsAt(errors, path);
        const typeErrors = at("eventTypes");
        return (
          <>
            <Field
              id={`${prefix}-url`}
              label="URL"
              hint="Where deliveries are POSTed: https, on a public host (a development server may also allow http://127.0.0.1:<port>)"
              errors={at("url")}
            >
              <input
                {...describedBy(`${prefix}-url`, at("url"), true)}
                ref={urlInput}
                type="url"
                inputMode="url"
                maxLength={URL_MAX}
                placeholder="https://example.com/webhooks/loyalty"
                spellcheck={false}
                autoComplete="off"
                value={draft.url}
                onInput={(e) => setDraft({ ...draft, url: e.currentTarget.value })}
              />
            </Field>
            <Field id={`${prefix}-description`} label="Description (optional)" hint="What receives it, e.g. “CRM sync”" errors={at("description")}>
              <input
                {...describedBy(`${prefix}-description`, at("description"), true)}
                maxLength={DESCRIPTION_MAX}
                value={draft.description}
                onInput={(e) => setDraft({ ...draft, description: e.currentTarget.value })}
              />
            </Field>
            <fieldset class={typeErrors.length > 0 ? "field-invalid" : ""} aria-describedby={typeErrors.length > 0 ? `${prefix}-types-error` : undefined}>
              <legend>Event types</legend>
              <ul class="scope-list">
                {EVENT_TYPE_ORDER.map((type) => {
                  const id = `${prefix}-type-${domId(type)}`;
                  const { description, loud } = EVENT_TYPES[type];
                  return (
                    <li key={type} class="field checkbox">
                      <input
                        id={id}
                        type="checkbox"
                        aria-describedby={`${id}-hint`}
                        checked={draft.eventTypes.includes(type)}
                        onChange={(e) => toggleType(type, e.currentTarget.checked)}
                      />
                      <span>
                        <label for={id}>
                          <code>{type}</code>
                        </label>{" "}
                        {loud && <span class="badge badge-warning">loud</span>}
                        <small class="hint" id={`${id}-hint`}>
                          {description}
                        </small>
                      </span>
                    </li>
                  );
                })}
              </ul>
              <small class="hint">
                Every endpoint also receives <code>webhook.test</code> when a test is sent.
              </small>
              {typeErrors.length > 0 && (
                <small class="field-error" id={`${prefix}-types-error`} role="alert">
                  {typeErrors.map((e) => e.message).join("; ")}
                </small>
              )}
            </fieldset>
            {!endpoint && (
              <div class="field checkbox">
                <input
                  id={`${prefix}-enabled`}
                  type="checkbox"
                  aria-describedby={`${prefix}-enabled-hint`}
                  checked={draft.enabled}
                  onChange={(e) => setDraft({ ...draft, enabled: e.currentTarget.checked })}
                />
                <label for={`${prefix}-enabled`}>Enabled</label>
                <small class="hint" id={`${prefix}-enabled-hint`}>
                  (a disabled endpoint gets nothing until it is enabled)
                </small>
              </div>
            )}
          </>
        );
      }}
    </DefinitionForm>
  );
}

/** A signing secret, once (after a create or a rotation): the API keeps it encrypted and never shows it again. */
function SecretNotice({ idPrefix, title, secret, note, onDone }: { idPrefix: string; title: string; secret: string; note: string; onDone: () => void }) {
  return (
    <ShownOnce
      id={`${domId(idPrefix)}-secret`}
      testId="webhook-secret"
      title={title}
      headingClass="endpoint-url"
      warning={
        <>
          <strong>Copy the signing secret now:</strong> it will not be shown again. {note}
        </>
      }
      label="Signing secret"
      hint="Keep it in your receiver's secret store"
      value={secret}
      noun="secret"
      onDone={onDone}
    />
  );
}

/** The outcome of one attempt, in words: "HTTP 200 in 12 ms", or why it got no answer. */
function describeAttempt(delivery: WebhookDelivery): string {
  const latency = delivery.latencyMs === null ? "" : ` in ${delivery.latencyMs} ms`;
  if (delivery.responseStatus === null) return `no answer${latency}${delivery.error ? `: ${delivery.error}` : ""}`;
  return `HTTP ${delivery.responseStatus}${latency}`;
}

function EndpointCard({ endpoint, onChanged, onDeleted }: { endpoint: WebhookEndpoint; onChanged: () => void; onDeleted: () => void }) {
  const client = useApiClient();
  const [editing, setEditing] = useState(false);
  const [rotated, setRotated] = useState<CreatedWebhookEndpoint | null>(null);
  const [tested, setTested] = useState<WebhookDelivery | null>(null);
  const [showDeliveries, setShowDeliveries] = useState(false);
  // Bumped after an action that adds or changes deliveries, so an open list loads again.
  const [deliveriesVersion, setDeliveriesVersion] = useState(0);
  const prefix = `endpoint-${domId(endpoint.id)}`;

  const toggle = useAction(async () => {
    await updateWebhookEndpoint(client, endpoint.id, { enabled: !endpoint.enabled });
    onChanged();
    setDeliveriesVersion((v) => v + 1);
  });
  const rotate = useAction(async () => {
    setRotated(await rotateWebhookSecret(client, endpoint.id));
    onChanged();
  });
  const test = useAction(async () => {
    setTested(null);
    setTested(await sendWebhookTest(client, endpoint.id));
    setShowDeliveries(true);
    setDeliveriesVersion((v) => v + 1);
    onChanged();
  });

  return (
    <article class="card endpoint" aria-labelledby={`${prefix}-url`} data-endpoint-id={endpoint.id}>
      <div class="endpoint-heading">
        <h2 id={`${prefix}-url`} class="endpoint-url">
          {endpoint.url}
        </h2>
        <span data-testid="endpoint-status">
          {endpoint.enabled ? <span class="badge badge-ok">enabled</span> : <span class="badge badge-off">disabled</span>}
          {!endpoint.enabled && (
            <span class="muted">
              {" "}
              {endpoint.disabledReason ?? "disabled"}
              {endpoint.disabledAt && `, since ${toMinute(endpoint.disabledAt)}`}
            </span>
          )}
        </span>
      </div>
      {endpoint.description && <p class="endpoint-description">{endpoint.description}</p>}
      {endpoint.enabled && endpoint.failingSince && (
        <p class="notice notice-warning">
          Failing since {toMinute(endpoint.failingSince)}: no delivery has succeeded since then. Three days of failures disable the endpoint.
        </p>
      )}
      <dl class="endpoint-facts">
        <div>
          <dt>Event types</dt>
          <dd>
            <ul class="inline-list" data-testid="endpoint-event-types">
              {endpoint.eventTypes.map((type) => (
                <li key={type}>
                  <code title={EVENT_TYPES[type].description}>{type}</code>
                </li>
              ))}
            </ul>
          </dd>
        </div>
        <div>
          <dt>Created</dt>
          <dd>{toMinute(endpoint.createdAt)}</dd>
        </div>
        {endpoint.previousSecretExpiresAt && (
          <div>
            <dt>Previous secret</dt>
            <dd>signs beside the new one until {toMinute(endpoint.previousSecretExpiresAt)}</dd>
          </div>
        )}
      </dl>

      {rotated && (
        <SecretNotice
          idPrefix={`${prefix}-rotated`}
          title="New signing secret"
          secret={rotated.secret}
          onDone={() => setRotated(null)}
          note={`The previous secret keeps signing beside it for 24 hours${
            rotated.previousSecretExpiresAt ? ` (until ${toMinute(rotated.previousSecretExpiresAt)})` : ""
          }: every delivery carries both signatures, so receivers verify with either. Give your receivers the new one before then.`}
        />
      )}

      <fieldset class="button-row" aria-label={`Actions for ${endpoint.url}`}>
        <button
          type="button"
          disabled={test.pending || !endpoint.enabled}
          onClick={() => void test.run()}
          title={endpoint.enabled ? undefined : "Enable the endpoint to send a test"}
        >
          {test.pending ? "Sending…" : "Send test"}
        </button>
        <button type="button" class="secondary" disabled={toggle.pending} onClick={() => void toggle.run()}>
          {endpoint.enabled ? "Disable" : "Enable"}
        </button>
        <button type="button" class="secondary" aria-expanded={editing} onClick={() => setEditing(!editing)}>
          Edit
        </button>
        <button type="button" class="secondary" disabled={rotate.pending} onClick={() => void rotate.run()}>
          {rotate.pending ? "Rotating…" : "Rotate secret"}
        </button>
        <DeleteEndpoint endpoint={endpoint} onDeleted={onDeleted} />
        <button
          type="button"
          class="secondary"
          aria-expanded={showDeliveries}
          aria-controls={`${prefix}-deliveries`}
          onClick={() => setShowDeliveries(!showDeliveries)}
        >
          {showDeliveries ? "Hide deliveries" : "Deliveries"}
        </button>
      </fieldset>
      {test.failure && <ErrorNotice failure={test.failure} context="Could not send a test" />}
      {toggle.failure && <ErrorNotice failure={toggle.failure} context={`Could not ${endpoint.enabled ? "disable" : "enable"} the endpoint`} />}
      {rotate.failure && <ErrorNotice failure={rotate.failure} context="Could not rotate the secret" />}
      {tested &&
        (tested.status === "succeeded" ? (
          <Success>Test event delivered: {describeAttempt(tested)}.</Success>
        ) : (
          <p class="notice notice-error" role="alert">
            The test delivery failed ({describeAttempt(tested)}){tested.status === "pending" ? "; it is retried on the schedule" : ""}.
          </p>
        ))}

      {editing && (
        <EndpointForm
          endpoint={endpoint}
          onCancel={() => setEditing(false)}
          submit={async (fields) => {
            await updateWebhookEndpoint(client, endpoint.id, fields);
            setEditing(false);
            onChanged();
          }}
        />
      )}
      {showDeliveries && <DeliveriesPanel id={`${prefix}-deliveries`} endpoint={endpoint} version={deliveriesVersion} />}
    </article>
  );
}

/** Delete, after a question in place: Escape or "Keep it" dismisses it and puts the focus back. */
function DeleteEndpoint({ endpoint, onDeleted }: { endpoint: WebhookEndpoint; onDeleted: () => void }) {
  const client = useApiClient();
  const { confirming, ask, dismiss, keepIt, trigger: deleteButton } = useConfirmInPlace();
  const remove = useAction(async () => {
    await deleteWebhookEndpoint(client, endpoint.id);
    onDeleted();
  });

  if (!confirming) {
    return (
      <button type="button" class="secondary" ref={deleteButton} onClick={ask}>
        Delete
      </button>
    );
  }
  return (
    <ConfirmQuestion
      label={`Confirm deleting ${endpoint.url}`}
      question="Delete this endpoint and its delivery records? It gets nothing more; this cannot be undone."
      confirm="Yes, delete"
      confirming="Deleting…"
      class="endpoint-confirm"
      pending={remove.pending}
      onConfirm={() => void remove.run()}
      keepIt={keepIt}
      onKeep={dismiss}
    >
      {remove.failure && <ErrorNotice failure={remove.failure} context="Could not delete the endpoint" />}
    </ConfirmQuestion>
  );
}

/** The endpoint's deliveries, newest first: filtered by status, paged by the API's cursor. */
function DeliveriesPanel({ id, endpoint, version }: { id: string; endpoint: WebhookEndpoint; version: number }) {
  const client = useApiClient();
  const [status, setStatus] = useState<WebhookDeliveryStatus | "">("");
  // The cursors of the pages after the first one, as far as the viewer went (the last one is the page shown).
  const [cursors, setCursors] = useState<string[]>([]);
  const [refreshes, setRefreshes] = useState(0);
  const cursor = cursors.at(-1);
  const deliveries = useApi(
    () => listWebhookDeliveries(client, endpoint.id, { ...(status ? { status } : {}), ...(cursor ? { cursor } : {}), limit: DELIVERIES_PER_PAGE }),
    [client, endpoint.id, status, cursor, version, refreshes],
  );
  const errors = deliveries.failure?.fieldErrors ?? [];
  const statusErrors = [...errorsAt(errors, "status"), ...errorsAt(errors, "cursor")];
  const page = cursors.length;
  const items = deliveries.data?.items ?? [];

  return (
    <section id={id} class="deliveries" aria-labelledby={`${id}-heading`}>
      <h3 id={`${id}-heading`}>Deliveries</h3>
      <div class="inline-fields">
        <Field id={`${id}-status`} label="Status" errors={statusErrors}>
          <select
            {...describedBy(`${id}-status`, statusErrors)}
            value={status}
            onChange={(e) => {
              setStatus(e.currentTarget.value as WebhookDeliveryStatus | "");
              setCursors([]);
            }}
          >
            <option value="">All</option>
            {DELIVERY_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </Field>
        <button type="button" class="secondary" disabled={deliveries.state === "loading"} onClick={() => setRefreshes((n) => n + 1)}>
          Refresh
        </button>
      </div>
      {deliveries.failure && <ErrorNotice failure={deliveries.failure} context="Could not load the deliveries" />}
      {deliveries.state === "loading" && <Loading what="deliveries" />}
      {deliveries.data && items.length === 0 && (
        <Empty>
          No {status ? `${status} ` : ""}deliveries{page > 0 ? " on this page" : " yet"}. Deliveries are kept 14 days.
        </Empty>
      )}
      {items.length > 0 && (
        <div class="table-scroll">
          <table data-testid="deliveries-table">
            <caption class="visually-hidden">Deliveries to {endpoint.url}, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Created</th>
                <th scope="col">Status</th>
                <th scope="col">Event type</th>
                <th scope="col">Attempts</th>
                <th scope="col">Response</th>
                <th scope="col">Latency</th>
                <th scope="col">Next retry</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {items.map((delivery) => (
                <DeliveryRow key={delivery.id} delivery={delivery} endpoint={endpoint} onRetried={() => setRefreshes((n) => n + 1)} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {deliveries.data && (page > 0 || deliveries.data.nextCursor) && (
        <nav class="pager" aria-label="Delivery pages">
          <button type="button" disabled={page === 0} onClick={() => setCursors(cursors.slice(0, -1))}>
            ← Newer
          </button>
          <span data-testid="deliveries-page">Page {page + 1}</span>
          <button
            type="button"
            disabled={!deliveries.data.nextCursor}
            onClick={() => deliveries.data?.nextCursor && setCursors([...cursors, deliveries.data.nextCursor])}
          >
            Older →
          </button>
        </nav>
      )}
    </section>
  );
}

function DeliveryRow({ delivery, endpoint, onRetried }: { delivery: WebhookDelivery; endpoint: WebhookEndpoint; onRetried: () => void }) {
  const client = useApiClient();
  const retry = useAction(async () => {
    await retryWebhookDelivery(client, endpoint.id, delivery.id);
    onRetried();
  });
  return (
    <tr data-delivery-id={delivery.id}>
      <td>{toSecond(delivery.createdAt)}</td>
      <td>
        <span class={`badge ${STATUS_BADGES[delivery.status]}`} data-testid="delivery-status">
          {delivery.status}
        </span>
      </td>
      <td>
        <code data-testid="delivery-event-type">{delivery.eventType}</code>
      </td>
      <td data-testid="delivery-attempts">{delivery.attempts}</td>
      <td data-testid="delivery-response">
        {delivery.responseStatus === null ? <span class="muted">no answer</span> : `HTTP ${delivery.responseStatus}`}
        {delivery.error && <div class="muted details">{delivery.error}</div>}
        {delivery.responseText !== null && delivery.responseText !== "" && (
          <details class="response-text">
            <summary>Response text</summary>
            <pre>{delivery.responseText}</pre>
          </details>
        )}
      </td>
      <td>{delivery.latencyMs === null ? <span class="muted">—</span> : `${delivery.latencyMs} ms`}</td>
      <td>{delivery.nextAttemptAt === null ? <span class="muted">—</span> : toSecond(delivery.nextAttemptAt)}</td>
      <td>
        <button
          type="button"
          class="secondary small"
          disabled={retry.pending || !endpoint.enabled}
          title={endpoint.enabled ? undefined : "Enable the endpoint to retry"}
          aria-label={`Retry the ${delivery.eventType} delivery of ${toSecond(delivery.createdAt)}`}
          onClick={() => void retry.run()}
        >
          {retry.pending ? "Retrying…" : "Retry"}
        </button>
        {retry.failure && <ErrorNotice failure={retry.failure} context="Could not retry" />}
      </td>
    </tr>
  );
}
