import { useState } from "preact/hooks";
import { answer, bodyOf, type ApiClient } from "../api/client";
import { useApiClient } from "../api/context";
import { ApiFailure, errorsAt } from "../api/errors";
import type { LoyaltyEvent } from "../api/types";
import { Empty, ErrorNotice, Loading } from "../components/feedback";
import { describedBy, Field } from "../components/fields";
import { Pager } from "../components/pager";
import { LOYALTY_EVENT_TYPES } from "../../../src/domain/definition-vocabulary";
import { LedgerTable } from "../ledger/ledger-table";
import { useApi } from "../lib/use-api";

export type LedgerFilters = {
  userId: string;
  accountId: string;
  eventType: "" | (typeof LOYALTY_EVENT_TYPES)[number];
  /** datetime-local values (the viewer's local time), sent as UTC instants. */
  from: string;
  to: string;
  sortField: "timestamp" | "id" | "createdAt";
  sortDirection: "asc" | "desc";
  size: number;
};

const NO_FILTERS: LedgerFilters = { userId: "", accountId: "", eventType: "", from: "", to: "", sortField: "timestamp", sortDirection: "desc", size: 20 };
const PAGE_SIZES = [10, 20, 50, 100];

const toInstant = (local: string) => (local ? new Date(local).toISOString() : undefined);

/** The account a user filter names (GET /v1/admin/users/{userId}); its 404 is reported at the user field. */
async function accountOf(client: ApiClient, userId: string): Promise<number> {
  try {
    return (await bodyOf(client.v1.admin.users[":userId"].$get({ param: { userId } }))).accountId;
  } catch (error) {
    if (error instanceof ApiFailure) throw new ApiFailure(error.status, error.message, [{ path: "userId", message: error.message }]);
    throw error;
  }
}

/** One page of GET /v1/loyalty-events and its X-Total-Count. */
async function ledgerPage(client: ApiClient, filters: LedgerFilters, page: number) {
  const accountId = filters.userId.trim() ? String(await accountOf(client, filters.userId.trim())) : filters.accountId.trim();
  const from = toInstant(filters.from);
  const to = toInstant(filters.to);
  const { body, headers } = await answer(
    client.v1["loyalty-events"].$get(
      {
        query: {
          page: String(page),
          size: String(filters.size),
          sort: `${filters.sortField},${filters.sortDirection}`,
          ...(accountId ? { accountid: accountId } : {}),
          ...(filters.eventType ? { eventtype: filters.eventType } : {}),
          ...(from ? { timestampfrom: from } : {}),
          ...(to ? { timestampto: to } : {}),
        },
      },
      { headers: { accept: "application/json" } },
    ),
  );
  return { entries: body, page, total: Number(headers.get("X-Total-Count") ?? body.length) };
}

export function LedgerPage() {
  const client = useApiClient();
  const [filters, setFilters] = useState<LedgerFilters>(NO_FILTERS);
  const [page, setPage] = useState(0);
  const [adjusted, setAdjusted] = useState<ReadonlyMap<number, LoyaltyEvent>>(new Map());
  const ledger = useApi(() => ledgerPage(client, filters, page), [client, filters, page]);
  const entries = ledger.data?.entries.map((entry) => adjusted.get(entry.id) ?? entry) ?? [];

  return (
    <section>
      <h1>Ledger</h1>
      <LedgerFilterForm
        applied={filters}
        failure={ledger.failure}
        onApply={(next) => {
          setFilters(next);
          setPage(0);
        }}
      />
      {ledger.failure && <ErrorNotice failure={ledger.failure} context="Could not load the ledger" />}
      {ledger.state === "loading" && <Loading what="the ledger" />}
      {ledger.data && ledger.data.entries.length === 0 && <Empty>No loyalty events match these filters{ledger.data.page > 0 ? " on this page" : ""}.</Empty>}
      {ledger.data && ledger.data.entries.length > 0 && (
        <>
          <LedgerTable entries={entries} onAdjusted={(entry) => setAdjusted((map) => new Map(map).set(entry.id, entry))} />
          <Pager page={ledger.data.page} size={filters.size} total={ledger.data.total} onPage={setPage} />
        </>
      )}
    </section>
  );
}

/** The filters, applied together on submit; the API's 400s name the query parameter, shown at its field. */
function LedgerFilterForm({ applied, failure, onApply }: { applied: LedgerFilters; failure: ApiFailure | null; onApply: (filters: LedgerFilters) => void }) {
  const [draft, setDraft] = useState(applied);
  const set = <K extends keyof LedgerFilters>(key: K, value: LedgerFilters[K]) => setDraft((d) => ({ ...d, [key]: value }));
  const errors = failure?.fieldErrors ?? [];
  const at = (path: string) => errorsAt(errors, path);
  return (
    <form
      class="filters card"
      aria-label="Ledger filters"
      onSubmit={(e) => {
        e.preventDefault();
        onApply(draft);
      }}
    >
      <div class="inline-fields">
        <Field id="ledger-user" label="User id" hint="Looks up the account" errors={at("userId")}>
          <input {...describedBy("ledger-user", at("userId"), true)} value={draft.userId} onInput={(e) => set("userId", e.currentTarget.value)} />
        </Field>
        <Field id="ledger-account" label="or account id" errors={at("accountid")}>
          <input
            {...describedBy("ledger-account", at("accountid"))}
            inputMode="numeric"
            value={draft.accountId}
            disabled={draft.userId.trim() !== ""}
            onInput={(e) => set("accountId", e.currentTarget.value)}
          />
        </Field>
        <Field id="ledger-type" label="Event type" errors={at("eventtype")}>
          <select
            {...describedBy("ledger-type", at("eventtype"))}
            value={draft.eventType}
            onChange={(e) => set("eventType", e.currentTarget.value as LedgerFilters["eventType"])}
          >
            <option value="">All</option>
            {LOYALTY_EVENT_TYPES.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </Field>
        <Field id="ledger-from" label="From (local time)" errors={at("timestampfrom")}>
          <input
            {...describedBy("ledger-from", at("timestampfrom"))}
            type="datetime-local"
            value={draft.from}
            onInput={(e) => set("from", e.currentTarget.value)}
          />
        </Field>
        <Field id="ledger-to" label="To (local time)" errors={at("timestampto")}>
          <input {...describedBy("ledger-to", at("timestampto"))} type="datetime-local" value={draft.to} onInput={(e) => set("to", e.currentTarget.value)} />
        </Field>
      </div>
      <div class="inline-fields">
        <Field id="ledger-sort" label="Sort by" errors={at("sort")}>
          <select
            {...describedBy("ledger-sort", at("sort"))}
            value={draft.sortField}
            onChange={(e) => set("sortField", e.currentTarget.value as LedgerFilters["sortField"])}
          >
            <option value="timestamp">time of the event</option>
            <option value="createdAt">time logged</option>
            <option value="id">id</option>
          </select>
        </Field>
        <Field id="ledger-direction" label="Order">
          <select
            {...describedBy("ledger-direction")}
            value={draft.sortDirection}
            onChange={(e) => set("sortDirection", e.currentTarget.value as LedgerFilters["sortDirection"])}
          >
            <option value="desc">newest / highest first</option>
            <option value="asc">oldest / lowest first</option>
          </select>
        </Field>
        <Field id="ledger-size" label="Per page" errors={at("size")}>
          <select {...describedBy("ledger-size", at("size"))} value={String(draft.size)} onChange={(e) => set("size", Number(e.currentTarget.value))}>
            {PAGE_SIZES.map((size) => (
              <option key={size} value={String(size)}>
                {size}
              </option>
            ))}
          </select>
        </Field>
      </div>
      <div class="button-row">
        <button type="submit">Apply filters</button>
        <button
          type="button"
          class="secondary"
          onClick={() => {
            setDraft(NO_FILTERS);
            onApply(NO_FILTERS);
          }}
        >
          Clear
        </button>
      </div>
    </form>
  );
}
