import { describe, expect, it } from "vitest";
import { api, setupProject } from "../helpers";

describe("error answers carry what the client needs next", () => {
  it("answers a known path with a wrong method 405 with Allow, and 401 with WWW-Authenticate", async () => {
    const { admin } = await setupProject();
    const wrong = await api("DELETE", "/v1/event", { auth: admin });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("GET, HEAD, POST");
    expect(wrong.json.statusCode).toBe(405);
    expect((await api("PATCH", "/v2/admin/events/x", { auth: admin })).headers.get("allow")).toBe("DELETE, PUT");
    expect((await api("GET", "/v1/nope", { auth: admin })).status).toBe(404);
    const anonymous = await api("GET", "/v1/event");
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toMatch(/^Bearer/);
  });
});
