import type { Browser } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { adminTokenFor, callApi, DashboardSession, expectApi, horizontalOverflow, launchBrowser, newProjectId, userTokenFor } from "./harness";

let browser: Browser;
let session: DashboardSession;
const projectId = newProjectId("sign-in");

beforeAll(async () => {
  browser = await launchBrowser();
  const admin = await adminTokenFor(projectId);
  await expectApi(201, admin, "PUT", "/v1/admin/users/alice", {});
});
afterAll(async () => {
  await browser?.close();
});
beforeEach(async () => {
  session = await DashboardSession.open(browser);
});
afterEach(async ({ task }) => {
  await session.finish(`sign-in ${task.name}`);
});

const storedCredential = () => session.page.evaluate(() => sessionStorage.getItem("loyalty-dashboard.credential"));

describe("signing in", () => {
  it("offers the demo token in local dev, keeps it in sessionStorage and forgets it on sign-out", async () => {
    const { page } = session;
    await session.goto("/dashboard/");
    await page.getByRole("button", { name: "Use the demo admin token" }).click();
    await expect.poll(() => page.getByTestId("signed-in-as").textContent()).toBe("demo-admin (admin) · project demo");
    expect(JSON.parse((await storedCredential()) ?? "null")).toEqual({ kind: "bearer", token: inject("demoToken") });
    await page.getByRole("heading", { name: "Analytics" }).waitFor();

    await page.reload();
    await page.getByRole("button", { name: "Sign out" }).waitFor();

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("Admin token or API key").waitFor();
    expect(await storedCredential()).toBeNull();
  });

  it("shows the API's message next to the credential when it is refused", async () => {
    const { page } = session;
    session.expectConsoleError(/status of 401/);
    session.expectConsoleError(/status of 403/);
    await session.goto("/dashboard/");

    const wrongKey = "lee_not-a-real-key";
    const refused = await fetch(`${inject("baseUrl")}/v1/admin/streaks`, { headers: { "x-api-key": wrongKey } });
    const { message } = (await refused.json()) as { message: string };
    expect(refused.status).toBe(401);
    await page.getByLabel("Admin token or API key").fill(wrongKey);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    const alert = page.locator("form[aria-label='Sign in'] [role=alert]");
    await expect.poll(() => alert.textContent()).toContain(message);
    expect(await alert.textContent()).toContain("HTTP 401");
    expect(await page.getByLabel("Admin token or API key").getAttribute("aria-invalid")).toBe("true");

    // A user token is valid but not an admin's: the API's 403, explained.
    const userToken = await userTokenFor(projectId, "alice");
    expect((await callApi(userToken, "GET", "/v1/admin/streaks")).status).toBe(403);
    await page.getByLabel("Admin token or API key").fill(userToken);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect.poll(() => alert.textContent()).toContain("not an admin's");
    expect(await storedCredential()).toBeNull();
  });

  it("lays out at 375 px without sideways scrolling, and on a desktop", async () => {
    const admin = await adminTokenFor(projectId);
    await session.signIn(admin);
    const { page } = session;
    for (const [width, height] of [
      [375, 812],
      [1280, 900],
    ] as const) {
      await page.setViewportSize({ width, height });
      for (const path of ["analytics", "events/new", "ledger", "users/alice"]) {
        await session.goto(`/dashboard/${path}`);
        await page.locator("main h1").first().waitFor();
        await page.waitForLoadState("networkidle");
        expect(await horizontalOverflow(page), `${path} at ${width} px`).toBe(0);
      }
    }
    await page.setViewportSize({ width: 375, height: 812 });
    await session.goto("/dashboard/analytics");
    await page.getByTestId("total-events").waitFor();
  });
});
