import { createApp } from "./app";
import { span, tracedEnv } from "./lib/bench-trace";
import { handleQueueBatch } from "./queue/consumer";
import { handleWebhooksBatch, WEBHOOKS_QUEUE } from "./queue/webhooks";
import { runScheduledWork } from "./services/scheduled";

export { UserState } from "./durable/user-state";

const app = createApp();

export default {
  // span and tracedEnv change nothing unless BENCH_TRACE is "1" (the benchmark harness times requests and counts
  // D1, queue and object use).
  fetch: (request, env, ctx) => span(env, "worker: request", async () => app.fetch(request, tracedEnv(env, "request"), ctx)),
  // Webhook deliveries are not the write path's cost: their consumer is not traced.
  queue: (batch, env) =>
    batch.queue === WEBHOOKS_QUEUE ? handleWebhooksBatch(batch, env) : span(env, "consumer: batch", () => handleQueueBatch(batch, tracedEnv(env, "consumer"))),
  scheduled: (_controller, env, ctx) => ctx.waitUntil(runScheduledWork(env)),
} satisfies ExportedHandler<Env>;
