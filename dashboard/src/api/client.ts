import { hc } from "hono/client";
import type { AppType } from "../../../src/app";
import { asFailure, failureOf } from "./errors";

/** How the dashboard signs its calls: an admin JWT (Authorization: Bearer) or a server API key (X-API-Key). */
export type Credential = { kind: "bearer"; token: string } | { kind: "apiKey"; key: string };

export const credentialHeaders = (credential: Credential): Record<string, string> =>
  credential.kind === "bearer" ? { Authorization: `Bearer ${credential.token}` } : { "X-API-Key": credential.key };

/** The typed client over the Worker's routes (same origin: the Worker serves the dashboard and the API). */
export const createApiClient = (credential: Credential, origin: string = window.location.origin) =>
  hc<AppType>(origin, { headers: () => credentialHeaders(credential) });

export type ApiClient = ReturnType<typeof createApiClient>;

/** What a typed client call resolves to; the error statuses are not in AppType, so only success bodies are typed. */
type TypedResponse = { ok: boolean; status: number; statusText: string; headers: Headers; json(): Promise<unknown>; text(): Promise<string> };
/** A 204 has no body (null); any other success answers its JSON. */
type BodyOf<R> = R extends { status: 204 } ? null : R extends { json(): Promise<infer T> } ? T : never;

export type Answer<R> = { body: BodyOf<R>; status: number; headers: Headers };

/**
 * Awaits a typed call; a non-2xx answer (or no answer) throws an `ApiFailure` carrying the envelope's message and
 * field errors. A 204 has no body: `body` is then null.
 */
export async function answer<R extends TypedResponse>(call: Promise<R>): Promise<Answer<R>> {
  let response: R;
  try {
    response = await call;
  } catch (error) {
    throw asFailure(error);
  }
  if (!response.ok) throw await failureOf(response);
  const body = response.status === 204 ? null : await response.json();
  return { body: body as BodyOf<R>, status: response.status, headers: response.headers };
}

/** Just the body of a successful typed call. */
export const bodyOf = async <R extends TypedResponse>(call: Promise<R>): Promise<BodyOf<R>> => (await answer(call)).body;
