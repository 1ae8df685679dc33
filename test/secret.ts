/** The HS256 secret the test Worker is configured with (see vitest.config.ts). */
export const TEST_JWT_SECRET = "test-secret-for-vitest-only-0123456789";
