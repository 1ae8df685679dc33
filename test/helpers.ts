import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { SignJWT } from "jose";
import { createApp } from "../src/app";
import { userStateName } from "../src/durable/stub";
import type { UserState } from "../src/durable/user-state";
import type { ErrorEnvelope } from "../src/http/errors";
import { TEST_JWT_SECRET } from "./secret";

export type Role = "user" | "admin";

/** A fresh project key per test, so tests never see each other's data. */
export const newProject = () => `p-${crypto.randomUUID().slice(0, 12)}`;

export async function token(
  claims: { sub?: string; projectId?: string; role?: Role | string },
  options: { secret?: string; expiresIn?: string | number | null; notBefore?: number; issuedAt?: null } = {},
): Promise<string> {
  const jwt = new SignJWT({ projectId: claims.projectId, role: claims.role }).setProtectedHeader({ alg: "HS256" });
  if (options.issuedAt !== null) jwt.setIssuedAt();
  if (claims.sub !== undefined) jwt.setSubject(claims.sub);
  if (options.expiresIn !== null) jwt.setExpirationTime(options.expiresIn ?? "1h");
  if (options.notBefore !== undefined) jwt.setNotBefore(options.notBefore);
  return jwt.sign(new TextEncoder().encode(options.secret ?? TEST_JWT_SECRET));
}

export const adminToken = (projectId: string) => token({ sub: "admin", projectId, role: "admin" });
export const userToken = (projectId: string, sub: string) => token({ sub, projectId, role: "user" });

export type Credential = { bearer: string } | { apiKey: string } | null;

export type ApiResponse<T> = { status: number; headers: Headers; json: T; text: string };

/**
 * Calls the Worker's fetch handler in the same runtime; with `env`, a fresh app over the test's bindings with
 * those replaced (a var, a failing binding). `T` is the body the test expects (an error envelope unless it says
 * otherwise); the body is parsed JSON, undefined when empty or not JSON.
 */
export async function api<T = ErrorEnvelope>(
  method: string,
  path: string,
  options: { auth?: Credential; body?: unknown; rawBody?: string; headers?: Record<string, string>; env?: Partial<Env> } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.auth && "bearer" in options.auth) headers.authorization = `Bearer ${options.auth.bearer}`;
  if (options.auth && "apiKey" in options.auth) headers["x-api-key"] = options.auth.apiKey;
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined && !("content-type" in headers)) headers["content-type"] = "application/json";
  const request = new Request(`http://api.test${path}`, { method, headers, body });
  const response = options.env ? await createApp().fetch(request, { ...env, ...options.env }) : await exports.default.fetch(request);
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, json: json as T, text };
}

export const purchaseDefinition = {
  title: "Purchase completed",
  description: "Tracks completed purchases",
  type: "TRANSACTION",
  rewardValueField: "amount",
  reward: { default: 1, gold: 2 },
  limit: 10,
  maximumReward: 1000,
  conditions: { type: "AND", conditions: [{ field: "amount", operator: "greater_than", value: 0 }] },
  metadataFields: [{ key: "amount", type: "number", required: true }],
};

export const loginDefinition = { title: "Daily login", type: "STANDARD", reward: { default: 5 } };

/** A project with an admin credential, some definitions and registered users. */
export async function setupProject(options: { definitions?: Record<string, unknown>; users?: Record<string, string[]> } = {}) {
  const projectId = newProject();
  const admin: Credential = { bearer: await adminToken(projectId) };
  for (const [eventId, definition] of Object.entries(options.definitions ?? { purchase_completed: purchaseDefinition })) {
    const res = await api("PUT", `/v1/admin/events/${eventId}`, { auth: admin, body: definition });
    if (res.status !== 201) throw new Error(`definition ${eventId}: ${res.status} ${res.text}`);
  }
  for (const [userId, usergroups] of Object.entries(options.users ?? { alice: [] })) {
    const res = await api("PUT", `/v1/admin/users/${userId}`, { auth: admin, body: { usergroups } });
    if (res.status !== 201) throw new Error(`user ${userId}: ${res.status} ${res.text}`);
  }
  return { projectId, admin };
}

/**
 * How long to wait for work the queue does in the background: `vi.waitFor(check, POLL)` or
 * `expect.poll(value, POLL)`, checking every 100 ms for up to 15 s.
 */
export const POLL = { timeout: 15_000, interval: 100 };

/** The Durable Object of one user of one project, as the Worker reaches it. */
export const userObject = (projectId: string, userId: string) =>
  env.USER_STATE.get(env.USER_STATE.idFromName(userStateName(projectId, userId))) as DurableObjectStub<UserState>;

/**
 * The USER_STATE namespace with the objects `unreachable` picks failing every call (as a reset or overloaded
 * object does); the others are the real ones.
 */
export function unreachableUserObjects(unreachable: (id: DurableObjectId) => boolean = () => true): Env["USER_STATE"] {
  const failing = new Proxy({}, { get: (_target, property) => (property === "then" ? undefined : () => Promise.reject(new Error("Durable Object reset"))) });
  return {
    idFromName: (name: string) => env.USER_STATE.idFromName(name),
    get: (id: DurableObjectId) => (unreachable(id) ? failing : env.USER_STATE.get(id)),
  } as unknown as Env["USER_STATE"];
}

/** What a test puts where a user's object sends its queue messages: a queue that fails, filters or records. */
export type QueueStandIn = {
  send(body: unknown, options?: QueueSendOptions): Promise<unknown>;
  sendBatch(messages: Iterable<MessageSendRequest<unknown>>, options?: QueueSendBatchOptions): Promise<unknown>;
};

/**
 * Gives a user's object `queue` as its EVENTS_QUEUE binding until the returned function gives its own back. The
 * object reads the binding at each send, so the change holds at once; the one place tests reach into its env.
 */
export async function replaceObjectQueue(stub: DurableObjectStub<UserState>, queue: QueueStandIn): Promise<() => Promise<void>> {
  const setQueue = (binding: Queue) =>
    runInDurableObject(stub, (instance) => {
      const holder = instance as unknown as { env: Env };
      const own = holder.env.EVENTS_QUEUE;
      holder.env = { ...holder.env, EVENTS_QUEUE: binding };
      return own;
    });
  const own = await setQueue(queue as Queue);
  return async () => void (await setQueue(own));
}

/** A queue that refuses every send, as an unavailable one does. */
export const unavailableQueue: QueueStandIn = {
  send: () => Promise.reject(new Error("queue unavailable")),
  sendBatch: () => Promise.reject(new Error("queue unavailable")),
};

/**
 * The test's D1, instrumented: counts every call, and makes `batch` calls fail while `failBatch(n)` answers
 * true for the n-th batch (1-based). For tests of the hot path (no D1) and of D1 outages.
 */
export function instrumentedD1(options: { failBatch?: (n: number) => boolean } = {}) {
  let calls = 0;
  let batches = 0;
  const db = new Proxy(env.DB, {
    get(target, property) {
      const value = Reflect.get(target, property);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        calls += 1;
        if (property === "batch") {
          batches += 1;
          if (options.failBatch?.(batches)) return Promise.reject(new Error("D1 unavailable"));
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return {
    db,
    calls: () => calls,
    batches: () => batches,
    resetCalls: () => {
      calls = 0;
    },
  };
}

/** Creates an API key in the project of `auth` and returns it as a credential (with its id). */
export async function apiKeyWith(
  auth: Credential,
  scopes: string[],
  extra: { allowedOrigins?: string[]; expiresAt?: string } = {},
): Promise<{ apiKey: string; id: string }> {
  const res = await api<{ key: string; id: string }>("POST", "/v1/admin/api-keys", { auth, body: { name: `key ${scopes.join(" ")}`, scopes, ...extra } });
  if (res.status !== 201) throw new Error(`api key: ${res.status} ${res.text}`);
  return { apiKey: res.json.key, id: res.json.id };
}
