declare namespace Cloudflare {
  interface Env {
    TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
    STATS_MIGRATION_DB: D1Database;
    LEDGER_MIGRATION_DB: D1Database;
    SLIM_LOG_MIGRATION_DB: D1Database;
  }
}
