import type { components } from "./schema.js";

/** The API's error envelope: `{ statusCode, message, errors?: [{ path, message }] }`. */
export type ErrorEnvelope = components["schemas"]["Error"];

/** A non-2xx answer, thrown by the helpers that return data rather than `{ data, error }` (`unwrap`, paging). */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly status: number,
    /** The parsed error envelope (or the raw text when the body was not JSON). */
    readonly body: unknown,
    readonly response: Response,
  ) {
    super(`${status}: ${ApiError.messageOf(body) ?? response.statusText ?? "request failed"}`);
  }

  /** The envelope when the body is one. */
  get envelope(): ErrorEnvelope | undefined {
    return ApiError.messageOf(this.body) === undefined ? undefined : (this.body as ErrorEnvelope);
  }

  private static messageOf(body: unknown): string | undefined {
    if (typeof body !== "object" || body === null || !("message" in body)) return undefined;
    return typeof body.message === "string" ? body.message : undefined;
  }
}

/** The data of a call's result, or an `ApiError` thrown for its error: `const user = unwrap(await client.GET(…))`. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (!result.response.ok) throw new ApiError(result.response.status, result.error, result.response);
  return result.data as T;
}
