/** A field the API (or the form, validating like the API) blames: `reward.default`, `conditions.conditions.0.value`. */
export type FieldError = { path: string; message: string };

/** The API's error envelope: every non-2xx answer has this shape. */
type ErrorEnvelope = { statusCode: number; message: string; errors?: FieldError[] };

/** A failed call: the envelope's status, message and field errors (status 0 when the API could not be reached). */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly fieldErrors: FieldError[] = [],
  ) {
    super(message);
    this.name = "ApiFailure";
  }
}

const isEnvelope = (value: unknown): value is ErrorEnvelope =>
  typeof value === "object" && value !== null && typeof (value as ErrorEnvelope).message === "string";

/** The failure a non-2xx response describes (its envelope, or its status line when it has none). */
export async function failureOf(response: Response | { status: number; statusText: string; text(): Promise<string> }): Promise<ApiFailure> {
  const text = await response.text().catch(() => "");
  try {
    const body: unknown = JSON.parse(text);
    if (isEnvelope(body)) return new ApiFailure(response.status, body.message, body.errors ?? []);
  } catch {
    // not JSON: fall through to the status line
  }
  return new ApiFailure(response.status, `${response.status} ${response.statusText || "Request failed"}`.trim());
}

/** Any thrown value as a failure to show (network errors included). */
export function asFailure(error: unknown): ApiFailure {
  if (error instanceof ApiFailure) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ApiFailure(0, `Could not reach the API: ${message}`);
}

/** The field errors for one path (exactly) and for paths below it, e.g. `reward` gets `reward.gold`. */
export const errorsAt = (errors: readonly FieldError[], path: string): FieldError[] => errors.filter((e) => e.path === path || e.path.startsWith(`${path}.`));
