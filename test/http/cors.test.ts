import { describe, expect, it } from "vitest";
import { api, setupProject } from "../helpers";

describe("CORS", () => {
  it("answers a browser preflight before authentication, and exposes the headers clients read", async () => {
    const preflight = await api("OPTIONS", "/v1/event", {
      headers: {
        origin: "https://shop.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type, idempotency-key",
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("*");
    expect(preflight.headers.get("access-control-allow-methods")).toContain("POST");
    expect(preflight.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("idempotency-key");
    expect(preflight.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("x-api-key");
    expect(Number(preflight.headers.get("access-control-max-age"))).toBeGreaterThan(0);

    const { admin } = await setupProject();
    const res = await api("GET", "/v1/event", { auth: admin, headers: { origin: "https://shop.example" } });
    expect(res.headers.get("access-control-expose-headers")).toContain("Idempotent-Replayed");
  });

  it("allows only the configured origins when CORS_ORIGINS lists them", async () => {
    const preflight = (origin: string) =>
      api("OPTIONS", "/v1/event", {
        headers: { origin, "access-control-request-method": "POST" },
        env: { CORS_ORIGINS: "https://app.example, https://admin.example" },
      });
    expect((await preflight("https://admin.example")).headers.get("access-control-allow-origin")).toBe("https://admin.example");
    expect((await preflight("https://evil.example")).headers.get("access-control-allow-origin")).toBeNull();
  });
});
