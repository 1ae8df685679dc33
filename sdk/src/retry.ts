import type { LoyaltyClient, Schemas } from "./client.js";

/** What the API answers when trying again later can succeed: rate limited, or a user's state briefly unreachable. */
export const RETRYABLE_STATUSES: readonly number[] = [429, 503];

export interface RetryOptions {
  /** Attempts in all, the first one included (default 4). */
  attempts?: number;
  /** The first wait when the answer has no `Retry-After` (default 250 ms; doubled each time, with jitter). */
  baseDelayMs?: number;
  /**
   * The longest wait (default 30 s). When `Retry-After` asks for longer, the helper does not wait: it returns that
   * answer (429/503 with its `Retry-After`) for the caller to schedule.
   */
  maxDelayMs?: number;
  /** Stops waiting and retrying (the pending wait rejects with the signal's reason). */
  signal?: AbortSignal;
  /** Called before each wait: for logs and metrics. */
  onRetry?: (retry: { attempt: number; delayMs: number; status?: number; error?: unknown }) => void;
}

/**
 * `Retry-After` in milliseconds: delay-seconds (`"10"`) or an HTTP date; undefined when absent or unreadable.
 * A date in the past is 0.
 */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  signal?.throwIfAborted();
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

const isAbort = (error: unknown) => typeof error === "object" && error !== null && "name" in error && error.name === "AbortError";

/**
 * Sends `send()` until its answer is not 429/503 (or a network failure), at most `attempts` times, waiting what
 * `Retry-After` says (else an exponential backoff with jitter). Returns the last answer; rethrows the last network
 * failure. Only for requests that are safe to repeat: reads, and writes carrying an `Idempotency-Key` that
 * `send` resends unchanged (the API then applies them once and replays the first answer).
 */
export async function withRetry<R extends { response: Response }>(send: (attempt: number) => Promise<R>, options: RetryOptions = {}): Promise<R> {
  const attempts = Math.max(1, options.attempts ?? 4);
  const baseDelayMs = options.baseDelayMs ?? 250;
  const maxDelayMs = options.maxDelayMs ?? 30_000;
  for (let attempt = 1; ; attempt += 1) {
    let result: R | undefined;
    let failure: unknown;
    try {
      result = await send(attempt);
    } catch (error) {
      if (isAbort(error) || attempt >= attempts) throw error;
      failure = error;
    }
    if (result && (!RETRYABLE_STATUSES.includes(result.response.status) || attempt >= attempts)) return result;
    const backoff = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2));
    const asked = result ? retryAfterMs(result.response.headers.get("Retry-After")) : undefined;
    if (result && asked !== undefined && asked > maxDelayMs) return result;
    const delayMs = asked ?? backoff;
    options.onRetry?.({ attempt, delayMs, ...(result ? { status: result.response.status } : { error: failure }) });
    await sleep(delayMs, options.signal);
  }
}

/** The body of `POST /v1/event`. */
export type LogEventBody = Schemas["LogEventInput"];

/**
 * `POST /v1/event` with an `Idempotency-Key` (yours, or a random UUID), retried on 429/503 and network failures
 * with that same key, so the event is awarded once however often it is sent. The result is openapi-fetch's
 * `{ data, error, response }` plus the key used: keep it to retry later yourself when the helper gave up.
 */
export async function logEvent(client: LoyaltyClient, body: LogEventBody, options: RetryOptions & { idempotencyKey?: string } = {}) {
  const { idempotencyKey = crypto.randomUUID(), ...retry } = options;
  const result = await withRetry(
    () => client.POST("/v1/event", { body, params: { header: { "idempotency-key": idempotencyKey } }, signal: retry.signal }),
    retry,
  );
  return { ...result, idempotencyKey };
}
