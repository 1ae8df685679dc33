// One load scenario, run in its own process so the load generator does not share an event loop with the
// harness: `node load.mjs <config.json>` prints autocannon's summary as JSON on stdout.
// config: { url, connections, durationSeconds, amount?, method, path, headers, body? | bodies? | generator? }
//   bodies: a list of request bodies used round-robin; generator: { kind: "log", users: [...], mix: [...] } or
//   { kind: "each" | "random", users: [...], template: {...} }: the template with `userId` set to the next user of the
//   list ("each": in order, each once; with `amount` = the list's length every user gets exactly one request) or to
//   a random one. `amount`: stop after that many requests (autocannon's amount) instead of a duration.
import { readFileSync } from "node:fs";
import autocannon from "autocannon";

const config = JSON.parse(readFileSync(process.argv[2], "utf8"));

/** A log request body for a random user and an event picked by weight from the mix. */
function logBody(generator) {
  const user = generator.users[Math.floor(Math.random() * generator.users.length)];
  let pick = Math.random() * generator.totalWeight;
  const entry = generator.mix.find((e) => (pick -= e.weight) < 0) ?? generator.mix[0];
  return JSON.stringify({ eventId: entry.eventId, userId: user, metadata: entry.metadata });
}

let next = 0;
let built = 0;
const body = () => {
  built += 1;
  if (config.generator?.kind === "log") return logBody(config.generator);
  if (config.generator?.kind === "each") {
    const userId = config.generator.users[next++];
    // Past the list (cannot happen with amount = its length: autocannon builds one body per request sent).
    if (userId === undefined) throw new Error("generator each: more requests than users");
    return JSON.stringify({ ...config.generator.template, userId });
  }
  if (config.generator?.kind === "random") {
    const { users, template } = config.generator;
    return JSON.stringify({ ...template, userId: users[Math.floor(Math.random() * users.length)] });
  }
  if (config.bodies) return config.bodies[next++ % config.bodies.length];
  return config.body;
};
if (config.generator?.kind === "log") config.generator.totalWeight = config.generator.mix.reduce((sum, e) => sum + e.weight, 0);

const statuses = {};
// autocannon ends an `amount` run at its next one-second tick, and its duration with it: for such runs the time
// taken is measured here, from the start to the last response (`elapsedSeconds`).
const startedAt = performance.now();
let lastResponseAt = startedAt;
const instance = autocannon(
  {
    url: config.url,
    connections: config.connections,
    duration: config.durationSeconds,
    ...(config.amount ? { amount: config.amount } : {}),
    requests: [
      {
        method: config.method ?? "GET",
        path: config.path,
        headers: config.headers ?? {},
        setupRequest: (request) => (config.method === "POST" ? { ...request, body: body() } : request),
      },
    ],
  },
  (error, result) => {
    if (error) {
      console.error(error);
      process.exit(1);
    }
    process.stdout.write(
      JSON.stringify({
        requestsPerSecond: result.requests.average,
        requests: result.requests.total,
        durationSeconds: result.duration,
        latency: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
        non2xx: result.non2xx,
        errors: result.errors,
        timeouts: result.timeouts,
        statuses,
        bodiesBuilt: built,
        elapsedSeconds: (lastResponseAt - startedAt) / 1000,
      }),
    );
  },
);
instance.on("response", (_client, statusCode) => {
  lastResponseAt = performance.now();
  statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
});
