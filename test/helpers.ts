import { exports } from "cloudflare:workers";
import { SignJWT } from "jose";
import { TEST_JWT_SECRET } from "./secret";

export type Role = "user" | "admin";

/** A fresh project key per test, so tests never see each other's data. */
export const newProject = () => `p-${crypto.randomUUID().slice(0, 12)}`;

export async function token(
  claims: { sub?: string; projectId?: string; role?: Role | string },
  options: { secret?: string; expiresIn?: string | number | null; notBefore?: number } = {},
): Promise<string> {
  const jwt = new SignJWT({ projectId: claims.projectId, role: claims.role })
    .setProtectedHeader({ alg: "HS256" })
    .setIssuedAt();
  if (claims.sub !== undefined) jwt.setSubject(claims.sub);
  if (options.expiresIn !== null) jwt.setExpirationTime(options.expiresIn ?? "1h");
  if (options.notBefore !== undefined) jwt.setNotBefore(options.notBefore);
  return jwt.sign(new TextEncoder().encode(options.secret ?? TEST_JWT_SECRET));
}

export const adminToken = (projectId: string) => token({ sub: "admin", projectId, role: "admin" });
export const userToken = (projectId: string, sub: string) => token({ sub, projectId, role: "user" });

export type Credential = { bearer: string } | { apiKey: string } | null;

/** Calls the Worker's fetch handler in the same runtime. */
export async function api(
  method: string,
  path: string,
  options: { auth?: Credential; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; json: any; text: string }> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.auth && "bearer" in options.auth) headers.authorization = `Bearer ${options.auth.bearer}`;
  if (options.auth && "apiKey" in options.auth) headers["x-api-key"] = options.auth.apiKey;
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined && !("content-type" in headers)) headers["content-type"] = "application/json";
  const response = await exports.default.fetch(new Request(`http://api.test${path}`, { method, headers, body }));
  const text = await response.text();
  let json: any = undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, json, text };
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
export async function setupProject(
  options: { definitions?: Record<string, unknown>; users?: Record<string, string[]> } = {},
) {
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

/** Polls until `check` returns a value other than undefined, for work the queue does in the background. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  // performance.now, not Date.now: tests may fake Date.
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 100));
  }
}
