import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/**
 * `npm run test:e2e`: the dashboard in headless Chromium (Debian's /usr/bin/chromium through playwright-core)
 * against the Worker under `wrangler dev` on 127.0.0.1 (started by global-setup.ts). One file at a time: they
 * share one server, and the machine has two cores.
 */
export default defineConfig({
  root: fileURLToPath(new URL("../..", import.meta.url)),
  test: {
    name: "e2e",
    include: ["test/e2e/**/*.e2e.ts"],
    environment: "node",
    globalSetup: ["test/e2e/global-setup.ts"],
    fileParallelism: false,
    maxWorkers: 1,
    testTimeout: 90_000,
    hookTimeout: 60_000,
  },
});
