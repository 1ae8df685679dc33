import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { EVENTS_QUEUE, handleQueueBatch } from "../../src/queue/consumer";

/** What an unavailable D1 answers (the message of a real one: network lost, overloaded, over its limits...). */
const d1Error = () => new Error("D1_ERROR: Network connection lost.");

/**
 * The test's D1 with every call failing while `failing()` answers true: batch, exec and every statement's
 * run/all/first/raw (the way D1 behaves when it is unavailable, overloaded or full). `refuse(args)` makes only the
 * batches with a statement bound to matching arguments fail (a message D1 keeps refusing). Counts calls.
 */
export function outageD1(options: { failing?: () => boolean; refuse?: (args: unknown[]) => boolean } = {}) {
  const failing = options.failing ?? (() => true);
  const boundArgs = new WeakMap<object, unknown[]>();
  /** The real statement behind each proxy: D1's batch takes only its own. */
  const realOf = new WeakMap<object, D1PreparedStatement>();
  let calls = 0;
  let failed = 0;
  const fail = () => {
    failed += 1;
    return Promise.reject(d1Error());
  };
  const statement = (real: D1PreparedStatement, args: unknown[] = []): D1PreparedStatement => {
    const proxy: D1PreparedStatement = new Proxy(real, {
      get(target, property) {
        if (property === "bind") return (...bound: unknown[]) => statement(target.bind(...bound), bound);
        const value = Reflect.get(target, property);
        if (typeof value !== "function") return value;
        return (...callArgs: unknown[]) => {
          calls += 1;
          if (failing()) return fail();
          return (value as (...a: unknown[]) => unknown).apply(target, callArgs);
        };
      },
    });
    boundArgs.set(proxy, args);
    realOf.set(proxy, real);
    return proxy;
  };
  const db = new Proxy(env.DB, {
    get(target, property) {
      if (property === "prepare") return (sql: string) => statement(target.prepare(sql));
      const value = Reflect.get(target, property);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        calls += 1;
        if (failing()) return fail();
        if (property === "batch") {
          const statements = args[0] as D1PreparedStatement[];
          if (options.refuse && statements.some((s) => options.refuse!(boundArgs.get(s) ?? []))) return fail();
          return target.batch(statements.map((s) => realOf.get(s) ?? s));
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { db, calls: () => calls, failed: () => failed };
}

/** The test's R2 bucket with every call failing. */
export const brokenR2 = (): R2Bucket =>
  new Proxy(env.ARCHIVE, {
    get(target, property) {
      const value = Reflect.get(target, property);
      return typeof value === "function" ? () => Promise.reject(new Error("R2 unavailable")) : value;
    },
  });

/** Runs the consumer over one batch of `bodies` (as fixtures' deliver does, with the messages' send time) and returns what it acked, and what it retried with which delay. */
export async function deliverAt(bodies: unknown[], options: { environment?: Env; queue?: string; attempts?: number; ids?: string[]; timestamp?: Date } = {}) {
  const messages = bodies.map((body, i) => ({
    id: options.ids?.[i] ?? `m-${i}-${crypto.randomUUID()}`,
    timestamp: options.timestamp ?? new Date(),
    attempts: options.attempts ?? 1,
    body,
  }));
  const batch = createMessageBatch(options.queue ?? EVENTS_QUEUE, messages);
  // getQueueResult reports which messages were retried but not their delays: record those on the way.
  const delays = new Map<string, number | undefined>();
  for (const message of batch.messages) {
    const retry = message.retry.bind(message);
    Object.defineProperty(message, "retry", {
      value: (retryOptions?: QueueRetryOptions) => {
        delays.set(message.id, retryOptions?.delaySeconds);
        retry(retryOptions);
      },
    });
  }
  const ctx = createExecutionContext();
  await handleQueueBatch(batch, options.environment ?? env);
  const result = await getQueueResult(batch, ctx);
  return { ...result, retryMessages: result.retryMessages.map(({ msgId }) => ({ msgId, delaySeconds: delays.get(msgId) })), messages };
}

/** A project's dead letters in R2 (their keys). */
export async function archivedKeys(projectKey: string): Promise<string[]> {
  const listed = await env.ARCHIVE.list({ prefix: `dead-letters/${projectKey}/` });
  return listed.objects.map((object) => object.key);
}

/** A project's dead letters in D1. */
export async function d1Letters(projectKey: string) {
  const rows = await env.DB.prepare("SELECT message_id, queue, attempts, error, replayed_at FROM dead_letters WHERE project_key = ? ORDER BY id")
    .bind(projectKey)
    .all<{ message_id: string; queue: string; attempts: number; error: string | null; replayed_at: string | null }>();
  return rows.results;
}
