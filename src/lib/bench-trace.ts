/**
 * Counters for `npm run bench`, active only when the BENCH_TRACE var is "1": what logging costs in the units
 * Cloudflare bills and that scale (Durable Object storage statements, alarms set, queue messages and sends,
 * D1 statements), and how long the I/O stages of a log take. Module state: the Worker, the queue consumer and
 * the user objects of one workerd isolate share it; GET /__bench reads and resets it.
 */
export type BenchCounters = {
  doStatements: number;
  doAlarmsSet: number;
  queueSends: number;
  queueMessages: number;
  /** D1 statements on the request path (a logged event should need none) and in the queue consumer. */
  d1StatementsRequest: number;
  d1StatementsConsumer: number;
  logsApplied: number;
  eventsIngested: number;
};

type Span = { count: number; totalMs: number; maxMs: number };

const fresh = (): BenchCounters => ({
  doStatements: 0,
  doAlarmsSet: 0,
  queueSends: 0,
  queueMessages: 0,
  d1StatementsRequest: 0,
  d1StatementsConsumer: 0,
  logsApplied: 0,
  eventsIngested: 0,
});

export const benchTrace = { counters: fresh(), spans: new Map<string, Span>() };

export const isTracing = (env: { BENCH_TRACE?: string }): boolean => env.BENCH_TRACE === "1";

export function count(name: keyof BenchCounters, by = 1): void {
  benchTrace.counters[name] += by;
}

/** Times an async stage (only I/O advances the clock inside workerd, so spans measure waiting, not CPU). */
export async function span<T>(env: { BENCH_TRACE?: string }, name: string, work: () => Promise<T>): Promise<T> {
  if (!isTracing(env)) return work();
  const started = performance.now();
  try {
    return await work();
  } finally {
    const ms = performance.now() - started;
    const entry = benchTrace.spans.get(name) ?? { count: 0, totalMs: 0, maxMs: 0 };
    entry.count += 1;
    entry.totalMs += ms;
    entry.maxMs = Math.max(entry.maxMs, ms);
    benchTrace.spans.set(name, entry);
  }
}

/** A snapshot for the harness; `reset` starts the next scenario from zero. */
export function benchSnapshot(reset: boolean) {
  const snapshot = {
    counters: { ...benchTrace.counters },
    spans: Object.fromEntries([...benchTrace.spans].map(([name, s]) => [name, { count: s.count, avgMs: s.totalMs / s.count, maxMs: s.maxMs }])),
  };
  if (reset) {
    benchTrace.counters = fresh();
    benchTrace.spans.clear();
  }
  return snapshot;
}

/** D1 that counts its statements (each prepared statement is run once; a batch runs the ones it holds). */
export function countingD1(d1: D1Database, counter: "d1StatementsRequest" | "d1StatementsConsumer"): D1Database {
  return new Proxy(d1, {
    get(target, property) {
      const value = Reflect.get(target, property);
      if (typeof value !== "function") return value;
      if (property === "prepare") return (sql: string) => (count(counter), target.prepare(sql));
      if (property === "exec") return (sql: string) => (count(counter), target.exec(sql));
      return value.bind(target);
    },
  });
}

/** A queue producer that counts sends and messages. */
export function countingQueue<T>(queue: Queue<T>): Queue<T> {
  return {
    send: (body: T, options?: QueueSendOptions) => (count("queueSends"), count("queueMessages"), queue.send(body, options)),
    sendBatch: (messages: Iterable<MessageSendRequest<T>>, options?: QueueSendBatchOptions) => {
      const list = [...messages];
      count("queueSends");
      count("queueMessages", list.length);
      return queue.sendBatch(list, options);
    },
  } as Queue<T>;
}

/** The environment with counting D1 and queue bindings when tracing; unchanged otherwise. */
const traced = new WeakMap<object, Map<string, unknown>>();

/** The environment with counting D1 and queue bindings when tracing (the same object per binding and origin); env otherwise. */
export function tracedEnv<E extends { BENCH_TRACE?: string; DB: D1Database; EVENTS_QUEUE: Queue }>(env: E, origin: "request" | "consumer"): E {
  if (!isTracing(env)) return env;
  const byOrigin = traced.get(env.DB) ?? new Map<string, unknown>();
  traced.set(env.DB, byOrigin);
  let wrapped = byOrigin.get(origin) as E | undefined;
  if (!wrapped) {
    wrapped = { ...env, DB: countingD1(env.DB, origin === "request" ? "d1StatementsRequest" : "d1StatementsConsumer"), EVENTS_QUEUE: countingQueue(env.EVENTS_QUEUE) };
    byOrigin.set(origin, wrapped);
  }
  return wrapped;
}

/** A user object's SQL storage that counts its statements. */
export function countingSql(sql: SqlStorage): SqlStorage {
  return new Proxy(sql, {
    get(target, property) {
      const value = Reflect.get(target, property);
      if (property === "exec") return (query: string, ...bindings: unknown[]) => (count("doStatements"), target.exec(query, ...bindings));
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
