import { createApp } from "./app";
import { handleQueueBatch } from "./queue/consumer";

export { UserState } from "./durable/user-state";

const app = createApp();

export default {
  fetch: app.fetch,
  queue: handleQueueBatch,
} satisfies ExportedHandler<Env>;
