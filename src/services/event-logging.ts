import { assertActsFor, hasServerRights, type Principal } from "../auth/principal";
import type { Db } from "../db/client";
import { EVENT_ROW_OVERHEAD_BYTES } from "../db/quotas";
import { registeredUserIds } from "../db/users";
import { challengeValueErrors } from "../domain/challenges";
import { canonicalJson, sha256Hex } from "../domain/hashing";
import { unregisteredOutcome, type DispatchOutcome, type LogCommand, type Refusal } from "../domain/log-command";
import { utf8Bytes } from "../domain/json";
import { MAX_IDEMPOTENCY_KEY_LENGTH, MAX_METADATA_BYTES } from "../domain/limits";
import { eventTimeProblem } from "../domain/periods";
import { validateMetadata } from "../domain/rewards";
import { userStateStub } from "../durable/stub";
import { ApiError, invalidFields } from "../http/errors";
import { refusalError } from "../http/user-object-errors";
import { projectCatalogue } from "./definitions";
import { checkLogQuotas, countLogged, type QuotaItem } from "./quotas";

/** One log request as the routes validated it. */
export type LogRequest = { eventId: string; userId: string; metadata?: Record<string, unknown>; timestamp?: string };

/** A request item that passed every check the Worker can make; the user's object decides the rest. */
type PreparedLog = { userId: string; command: LogCommand };

/** A batch item: validated, or the error the route found in it. */
export type BatchItem = { request: LogRequest; idempotencyKey: string | null } | { invalid: ApiError };
export type BatchItemOutcome = { kind: "invalid"; error: ApiError } | { kind: "dispatched"; userId: string; outcome: DispatchOutcome };

/** `what` and `path` name where the key came from: ("header", "Idempotency-Key") or ("event", "events.3.idempotencyKey"). */
export function checkIdempotencyKey(key: string | null | undefined, what: string, path: string): string | null {
  if (key === undefined || key === null) return null;
  if (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw invalidFields(what, [{ path, message: `must be 1-${MAX_IDEMPOTENCY_KEY_LENGTH} characters` }]);
  }
  return key;
}

/** 413 naming `metadata` when it takes more than MAX_METADATA_BYTES as JSON (a log's, a redemption's). */
export function checkMetadataSize(metadata: Record<string, unknown>): void {
  if (utf8Bytes(JSON.stringify(metadata)) > MAX_METADATA_BYTES) {
    throw new ApiError(413, `metadata is larger than ${MAX_METADATA_BYTES} bytes`, [
      { path: "metadata", message: `must be at most ${MAX_METADATA_BYTES} bytes as JSON` },
    ]);
  }
}

/** Logs one event: the checks the Worker can make, then the user's object. Throws ApiError for what the Worker refuses. */
export async function logEvent(env: Env, db: Db, principal: Principal, request: LogRequest, idempotencyKey: string | null): Promise<DispatchOutcome> {
  const prepared = await prepareLog(db, principal, request, idempotencyKey);
  const quotaItem = quotaItemOf(prepared);
  if (quotaItem !== null) {
    const [refusal] = await checkLogQuotas(env, principal.projectKey, [quotaItem]);
    if (refusal) throw refusal;
  }
  const [outcome] = await dispatchLogs(env, principal.projectKey, [prepared]);
  if (!outcome) throw new Error("no outcome for a dispatched log");
  if (quotaItem !== null && isNewLog(outcome)) countLogged(principal.projectKey, [quotaItem]);
  return outcome;
}

/** What a prepared log counts against the project's quotas: its day and estimated bytes; null for a refusal. */
function quotaItemOf(prepared: PreparedLog): QuotaItem | null {
  const { command } = prepared;
  if (command.kind !== "log") return null;
  return { day: command.occurredAt.slice(0, 10), bytes: EVENT_ROW_OVERHEAD_BYTES + utf8Bytes(JSON.stringify(command.metadata)) };
}

const isNewLog = (outcome: DispatchOutcome): boolean => outcome.kind === "logged" && !outcome.replayed;

/**
 * The project's quotas over a batch's items about to be dispatched (indexes into `prepared`), in order: items
 * past a quota get its error (429 or 507) as their outcome and are dropped. When none may be logged because a
 * quota was already reached, the whole call is refused with that error (so the answer carries its Retry-After).
 */
async function admitByQuota(
  env: Env,
  projectKey: string,
  prepared: PreparedLog[],
  candidates: number[],
  refuse: (k: number, error: ApiError) => void,
): Promise<number[]> {
  const counted = candidates.filter((k) => quotaItemOf(prepared[k]!) !== null);
  const refusals = await checkLogQuotas(
    env,
    projectKey,
    counted.map((k) => quotaItemOf(prepared[k]!)!),
  );
  if (refusals.every((r) => r === null)) return candidates;
  if (refusals.every((r) => r !== null)) throw refusals[0]!;
  const refused = new Set<number>();
  refusals.forEach((refusal, j) => {
    if (refusal === null) return;
    refused.add(counted[j]!);
    refuse(counted[j]!, refusal);
  });
  return candidates.filter((k) => !refused.has(k));
}

/**
 * Logs a batch: every valid item is prepared like a single log; a failing item keeps its error while the
 * others go on. Outcomes come back in the order of `items`.
 */
export async function logBatch(env: Env, db: Db, principal: Principal, items: BatchItem[]): Promise<BatchItemOutcome[]> {
  const outcomes = new Array<BatchItemOutcome>(items.length);
  const prepared: PreparedLog[] = [];
  const preparedIndexes: number[] = [];
  for (const [index, item] of items.entries()) {
    if ("invalid" in item) {
      outcomes[index] = { kind: "invalid", error: item.invalid };
      continue;
    }
    try {
      prepared.push(await prepareLog(db, principal, item.request, item.idempotencyKey));
      preparedIndexes.push(index);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      outcomes[index] = { kind: "invalid", error };
    }
  }
  // One D1 query for the whole batch, so items for unregistered users cost no call to (and leave nothing in)
  // a user's object: a batch of 1,000 unknown users stays cheap.
  const registered = await registeredUserIds(db, principal.projectKey, [...new Set(prepared.map((p) => p.userId))]);
  for (const [k, item] of prepared.entries()) {
    if (!registered.has(item.userId)) {
      outcomes[preparedIndexes[k]!] = { kind: "dispatched", userId: item.userId, outcome: unregisteredOutcome(item.command) };
    }
  }
  const known = await admitByQuota(
    env,
    principal.projectKey,
    prepared,
    prepared.flatMap((item, k) => (registered.has(item.userId) ? [k] : [])),
    (k, error) => (outcomes[preparedIndexes[k]!] = { kind: "invalid", error }),
  );
  const dispatched = await dispatchLogs(
    env,
    principal.projectKey,
    known.map((k) => prepared[k]!),
  );
  const logged: QuotaItem[] = [];
  dispatched.forEach((outcome, j) => {
    const k = known[j]!;
    outcomes[preparedIndexes[k]!] = { kind: "dispatched", userId: prepared[k]!.userId, outcome };
    const item = quotaItemOf(prepared[k]!);
    if (item !== null && isNewLog(outcome)) logged.push(item);
  });
  countLogged(principal.projectKey, logged);
  return outcomes;
}

/**
 * Checks one log request against the caller's rights and the event's definition, in this order: acting for
 * another user or backfilling without server rights (403), metadata size (413), event time (400), unknown event (404), inactive
 * event (400), API key required (403), metadata against the definition and the sum challenges that read it
 * (400). Throws ApiError, except that definition-dependent refusals of a request with an idempotency key go
 * to the user's object (see `refuse`). Reads D1 only on a definitions cache miss. Whether `metadata.usergroup`
 * names only the user's own groups (user tokens) is for the user's object, which knows them.
 */
async function prepareLog(db: Db, principal: Principal, request: LogRequest, idempotencyKey: string | null): Promise<PreparedLog> {
  assertActsFor(principal, request.userId);
  if (request.timestamp !== undefined && !hasServerRights(principal)) {
    throw new ApiError(403, "Only admin tokens and API keys may set timestamp");
  }
  const metadata = request.metadata ?? {};
  checkMetadataSize(metadata);
  const occurredAtMs = request.timestamp === undefined ? Date.now() : Date.parse(request.timestamp);
  const timeProblem = eventTimeProblem(occurredAtMs, Date.now());
  if (timeProblem !== null) throw invalidFields("body", [{ path: "timestamp", message: timeProblem }]);
  const requestHash =
    idempotencyKey === null
      ? null
      : await sha256Hex(canonicalJson({ eventId: request.eventId, userId: request.userId, metadata, timestamp: request.timestamp ?? null }));
  // Refusals that depend on the definition go to the user's object when the request carries an idempotency
  // key, so that a retry of an event logged before the definition changed still gets its first answer.
  const refuse = (refusal: Refusal): PreparedLog => {
    if (idempotencyKey === null) throw refusalError(refusal);
    return { userId: request.userId, command: { kind: "refused", refusal, idempotencyKey, requestHash } };
  };
  const catalogue = await projectCatalogue(db, principal.projectKey);
  const definition = catalogue.events.get(request.eventId);
  if (!definition) return refuse({ code: "unknown_event", eventId: request.eventId });
  if (definition.status !== "ACTIVE") return refuse({ code: "inactive_event", eventId: request.eventId });
  if (definition.requiresApiKey && principal.kind !== "apiKey") {
    throw new ApiError(403, `Event ${request.eventId} can only be logged with an API key`);
  }
  const challenges = catalogue.activeChallengesByEvent.get(definition.eventId) ?? [];
  const metadataErrors = validateMetadata(definition, metadata);
  for (const error of challengeValueErrors(challenges, metadata)) {
    if (!metadataErrors.some((e) => e.path === error.path)) metadataErrors.push(error);
  }
  if (metadataErrors.length > 0) return refuse({ code: "invalid_metadata", errors: metadataErrors });
  const occurredAt = new Date(occurredAtMs).toISOString();
  const command: LogCommand = {
    kind: "log",
    definition,
    metadata,
    occurredAt,
    streaks: catalogue.activeStreaksByEvent.get(definition.eventId) ?? [],
    challenges,
    leaderboards: [...(catalogue.activeCountBoardsByEvent.get(definition.eventId) ?? []), ...catalogue.activePointsBoards],
    fromUserToken: principal.kind === "user",
    // Expiry of the lot this log earns, the zone, the tier ladder (README "Points lifecycle").
    policy: catalogue.points.policy,
    idempotencyKey,
    requestHash,
  };
  return { userId: request.userId, command };
}

/**
 * Sends prepared logs to their users' objects: one call per user carrying that user's items in request order,
 * users in parallel. Outcomes come back in the order of `items`. A user whose object fails (overloaded, reset)
 * gets `unavailable` for its items while the other users' outcomes stand; a retry with idempotency keys is safe.
 */
async function dispatchLogs(env: Env, projectKey: string, items: PreparedLog[]): Promise<DispatchOutcome[]> {
  const byUser = new Map<string, number[]>();
  items.forEach((item, index) => {
    const indexes = byUser.get(item.userId) ?? [];
    indexes.push(index);
    byUser.set(item.userId, indexes);
  });
  const outcomes = new Array<DispatchOutcome>(items.length);
  await Promise.all(
    [...byUser].map(async ([userId, indexes]) => {
      try {
        const answers = await userStateStub(env, projectKey, userId).logEvents(
          projectKey,
          userId,
          indexes.map((i) => items[i]!.command),
        );
        answers.forEach((outcome, k) => {
          outcomes[indexes[k]!] = outcome;
        });
      } catch (error) {
        console.error("user state call failed", error);
        for (const i of indexes) outcomes[i] = { kind: "unavailable" };
      }
    }),
  );
  return outcomes;
}
