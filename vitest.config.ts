import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

import { TEST_JWT_SECRET } from "./test/secret.ts";

// wrangler.toml declares JWT_SECRET as a required secret; the tests provide theirs.
process.env.JWT_SECRET ??= TEST_JWT_SECRET;

export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
  return {
    test: {
      projects: [
        {
          // Pure domain logic: plain vitest in Node, no bindings.
          test: { name: "domain", include: ["test/domain/**/*.test.ts"], environment: "node" },
        },
        {
          // Everything else runs inside workerd with the real D1, Durable Objects and Queues.
          plugins: [
            cloudflareTest({
              wrangler: { configPath: "./wrangler.toml" },
              miniflare: {
                bindings: { TEST_MIGRATIONS: migrations, JWT_SECRET: TEST_JWT_SECRET, JWKS_URL: "", JWT_ISSUER: "", JWT_AUDIENCE: "" },
                // Empty databases for tests that build one with an older schema and migrate it (test/db/*-migration.test.ts).
                d1Databases: ["STATS_MIGRATION_DB", "LEDGER_MIGRATION_DB", "SLIM_LOG_MIGRATION_DB"],
                // Deployed consumers wait up to 2 s to fill a batch; tests wait for the consumer, so it flushes at once.
                queueConsumers: {
                  "loyalty-events": { maxBatchSize: 100, maxBatchTimeout: 0.05, maxRetries: 8, deadLetterQueue: "loyalty-events-dlq" },
                  "loyalty-events-dlq": { maxBatchSize: 100, maxBatchTimeout: 0.05 },
                  "loyalty-webhooks": { maxBatchSize: 20, maxBatchTimeout: 0.05, maxRetries: 8 },
                },
              },
            }),
          ],
          test: {
            name: "workers",
            include: ["test/**/*.test.ts"],
            exclude: ["test/domain/**"],
            setupFiles: ["./test/apply-migrations.ts"],
          },
        },
      ],
    },
  };
});
