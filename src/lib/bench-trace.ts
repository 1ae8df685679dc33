/**
 * Counters for `npm run bench`, active only when the BENCH_TRACE var is "1": what logging costs in the units
 * Cloudflare bills and that scale (Durable Object storage statements, alarms set, queue messages and sends,
 * D1 statements), and how long the I/O stages of a log take. Module state: the Worker, the queue consumer and
 * the user objects of one workerd isolate share it; GET /__bench reads and resets it.
 *
 * Measured at the edges: the entry points (src/index.ts) and wrappers around the bindings (`tracedEnv`,
 * `tracedObjectSql`, `tracedObjectQueue`), so that routes, services and the domain run the same code either way.
 * Counts only the code that decides them can make, each one call where it does: the logs a user's object
 * applied (`logsApplied`, its logEvents) and the alarms it set or stood down (`doAlarmsSet`, `doAlarmsStoodDown`: workerd's DurableObject takes
 * only the runtime's own state object, which cannot be wrapped), and the logged events the consumer committed
 * to D1 (`eventsIngested`, src/queue/consumer.ts; counting them at the entry would parse every message twice).
 */
export type BenchCounters = {
  doStatements: number;
  doAlarmsSet: number;
  /** Alarms a first call after an object's start stood down once it had sent everything (UserState.sendSoon). */
  doAlarmsStoodDown: number;
  /** Sends to the events queue and the messages they carried (a sendBatch is one send). */
  queueSends: number;
  queueMessages: number;
  /** Messages sent to the webhooks queue by the Worker and the events queue's consumer. */
  webhookQueueMessages: number;
  /** D1 statements on the request path (a logged event should need none) and in the queue consumer. */
  d1StatementsRequest: number;
  d1StatementsConsumer: number;
  logsApplied: number;
  eventsIngested: number;
};

type Counter = keyof BenchCounters;
type Span = { count: number; totalMs: number; maxMs: number };

const fresh = (): BenchCounters => ({
  doStatements: 0,
  doAlarmsSet: 0,
  doAlarmsStoodDown: 0,
  queueSends: 0,
  queueMessages: 0,
  webhookQueueMessages: 0,
  d1StatementsRequest: 0,
  d1StatementsConsumer: 0,
  logsApplied: 0,
  eventsIngested: 0,
});

export const benchTrace = { counters: fresh(), spans: new Map<string, Span>() };

export const isTracing = (env: { BENCH_TRACE?: string }): boolean => env.BENCH_TRACE === "1";

export function count(name: Counter, by = 1): void {
  benchTrace.counters[name] += by;
}

function record(name: string, ms: number): void {
  const entry = benchTrace.spans.get(name) ?? { count: 0, totalMs: 0, maxMs: 0 };
  entry.count += 1;
  entry.totalMs += ms;
  entry.maxMs = Math.max(entry.maxMs, ms);
  benchTrace.spans.set(name, entry);
}

/** Times `work` as the span `name`, returning what it returns (the same promise, so RPC promises keep their methods). */
function timed<T>(name: string, work: () => T): T {
  const started = performance.now();
  const done = () => record(name, performance.now() - started);
  let result: T;
  try {
    result = work();
  } catch (error) {
    done();
    throw error;
  }
  Promise.resolve(result).then(done, done);
  return result;
}

/** Times an async stage (only I/O advances the clock inside workerd, so spans measure waiting, not CPU). */
export async function span<T>(env: { BENCH_TRACE?: string }, name: string, work: () => Promise<T>): Promise<T> {
  return isTracing(env) ? timed(name, work) : work();
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
function countingD1(d1: D1Database, counter: "d1StatementsRequest" | "d1StatementsConsumer"): D1Database {
  return new Proxy(d1, {
    get(target, property) {
      const value = Reflect.get(target, property);
      if (typeof value !== "function") return value;
      if (property === "prepare")
        return (sql: string) => {
          count(counter);
          return target.prepare(sql);
        };
      if (property === "exec")
        return (sql: string) => {
          count(counter);
          return target.exec(sql);
        };
      return value.bind(target);
    },
  });
}

/** What a queue producer counts: its sends (when counted), the messages they carry, and the span timing each send. */
type QueueTrace = { sends?: Counter; messages: Counter; span?: string };
const EVENTS_QUEUE_TRACE: QueueTrace = { sends: "queueSends", messages: "queueMessages" };
const WEBHOOKS_QUEUE_TRACE: QueueTrace = { messages: "webhookQueueMessages" };

/** A queue producer that counts sends and messages (the events queue's counters unless told otherwise). */
function countingQueue<T>(queue: Queue<T>, trace: QueueTrace = EVENTS_QUEUE_TRACE): Queue<T> {
  const sending = <R>(messages: number, send: () => Promise<R>): Promise<R> => {
    if (trace.sends) count(trace.sends);
    count(trace.messages, messages);
    return trace.span === undefined ? send() : timed(trace.span, send);
  };
  return {
    send: (body: T, options?: QueueSendOptions) => sending(1, () => queue.send(body, options)),
    sendBatch: (messages: Iterable<MessageSendRequest<T>>, options?: QueueSendBatchOptions) => {
      const list = [...messages];
      return sending(list.length, () => queue.sendBatch(list, options));
    },
  } as Queue<T>;
}

/** A user object's events queue: counted, and each send timed, when tracing. */
export const tracedObjectQueue = (env: { BENCH_TRACE?: string; EVENTS_QUEUE: Queue }): Queue =>
  isTracing(env) ? countingQueue(env.EVENTS_QUEUE, { ...EVENTS_QUEUE_TRACE, span: "object: queue send" }) : env.EVENTS_QUEUE;

/** A Durable Object namespace whose stubs time every method call as the span `name` (the call's round trip). */
function timedObjects<N extends object>(namespace: N, name: string): N {
  const timedStub = (stub: object) =>
    new Proxy(stub, {
      get(target, property) {
        const value = Reflect.get(target, property);
        if (typeof value !== "function" || property === "then") return value;
        // Methods named by a string are the object's RPC methods; others (Symbol.dispose) are the stub's own.
        if (typeof property !== "string") return value.bind(target);
        return (...args: unknown[]) => timed(name, () => Reflect.apply(value, target, args));
      },
    });
  return new Proxy(namespace, {
    get(target, property) {
      const value = Reflect.get(target, property);
      if (typeof value !== "function") return value;
      if (property === "get" || property === "getByName") return (...args: unknown[]) => timedStub(Reflect.apply(value, target, args));
      return value.bind(target);
    },
  });
}

type TracedBindings = Pick<Env, "BENCH_TRACE" | "DB" | "EVENTS_QUEUE" | "WEBHOOKS_QUEUE" | "USER_STATE">;

const traced = new WeakMap<object, Map<string, unknown>>();

/**
 * The environment with counting bindings when tracing (the same object per D1 binding and origin); env otherwise.
 * D1 statements count per origin, queue sends and messages per queue, and on the request path each call to a
 * user's object is timed ("worker: user object call").
 */
export function tracedEnv<E extends TracedBindings>(env: E, origin: "request" | "consumer"): E {
  if (!isTracing(env)) return env;
  const byOrigin = traced.get(env.DB) ?? new Map<string, unknown>();
  traced.set(env.DB, byOrigin);
  let wrapped = byOrigin.get(origin) as E | undefined;
  if (!wrapped) {
    wrapped = {
      ...env,
      DB: countingD1(env.DB, origin === "request" ? "d1StatementsRequest" : "d1StatementsConsumer"),
      EVENTS_QUEUE: countingQueue(env.EVENTS_QUEUE),
      WEBHOOKS_QUEUE: countingQueue(env.WEBHOOKS_QUEUE, WEBHOOKS_QUEUE_TRACE),
      USER_STATE: origin === "request" ? timedObjects(env.USER_STATE, "worker: user object call") : env.USER_STATE,
    };
    byOrigin.set(origin, wrapped);
  }
  return wrapped;
}

/** A user object's SQL storage: counting its statements when tracing. */
export function tracedObjectSql(sql: SqlStorage, env: { BENCH_TRACE?: string }): SqlStorage {
  if (!isTracing(env)) return sql;
  return new Proxy(sql, {
    get(target, property) {
      const value = Reflect.get(target, property);
      if (property === "exec")
        return (query: string, ...bindings: unknown[]) => {
          count("doStatements");
          return target.exec(query, ...bindings);
        };
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
