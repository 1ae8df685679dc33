import { describe, expect, it } from "vitest";
import { adminToken, api, setupProject, token } from "../helpers";

describe("token lifetimes", () => {
  it("refuses tokens that live longer than JWT_MAX_TTL_SECONDS, and tokens without iat when it is set", async () => {
    const { projectId } = await setupProject();
    const get = async (jwt: string) => (await api("GET", "/v1/event", { auth: { bearer: jwt }, env: { JWT_MAX_TTL_SECONDS: "3600" } })).status;
    expect(await get(await token({ sub: "a", projectId, role: "admin" }, { expiresIn: "30m" }))).toBe(200);
    expect(await get(await token({ sub: "a", projectId, role: "admin" }, { expiresIn: "2h" }))).toBe(401);
    expect(await get(await token({ sub: "a", projectId, role: "admin" }, { expiresIn: "30m", issuedAt: null }))).toBe(401);
    expect(await get(await adminToken(projectId))).toBe(200);
  });
});
