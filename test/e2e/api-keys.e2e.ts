import type { Browser } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { adminTokenFor, baseUrl, DashboardSession, expectApi, horizontalOverflow, launchBrowser, newProjectId } from "./harness";

let browser: Browser;
let session: DashboardSession;
let admin: string;

type ApiKey = {
  id: string;
  name: string;
  keyPrefix: string;
  scopes: string[];
  allowedOrigins: string[];
  expiresAt: string | null;
  lastUsedAt: string | null;
  createdAt: string;
  key?: string;
};

const listKeys = async () => (await expectApi<ApiKey[]>(200, admin, "GET", "/v1/admin/api-keys")).body;
/** A day 30 days from now (YYYY-MM-DD, UTC), for the expiry field. */
const inThirtyDays = () => new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);

beforeAll(async () => {
  browser = await launchBrowser();
  admin = await adminTokenFor(newProjectId("api-keys"));
  // The project exists once an admin has written to it.
  await expectApi(201, admin, "PUT", "/v1/admin/users/alice", {});
});
afterAll(async () => {
  await browser?.close();
});
beforeEach(async () => {
  session = await DashboardSession.open(browser);
});
afterEach(async ({ task }) => {
  await session.finish(`api-keys ${task.name}`);
});

describe("API keys", () => {
  it("creates a scoped key, shows it once, lists it with its scopes and revokes it after a confirmation", async () => {
    const { page, context } = session;
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: baseUrl() });
    await session.signIn(admin);
    await page.getByRole("link", { name: "API keys" }).click();
    await page.getByRole("heading", { name: "API keys", level: 1 }).waitFor();
    await page.getByRole("button", { name: "New key" }).click();

    const form = page.getByRole("form", { name: "New API key" });
    await form.getByLabel("Name", { exact: true }).fill("checkout backend");
    await form.getByLabel("events:log", { exact: true }).check();
    await form.getByLabel("stats:read", { exact: true }).check();
    await form.getByLabel("Allowed origins (optional)").fill("https://shop.example.com\nhttps://admin.example.com/, https://shop.example.com");
    const expiresOn = inThirtyDays();
    await form.getByLabel("Expires on (optional)").fill(expiresOn);
    await form.getByRole("button", { name: "Create" }).click();

    // The key, once, with the warning; the copy button puts it on the clipboard.
    const notice = page.getByTestId("new-api-key");
    await notice.waitFor();
    expect(await notice.textContent()).toContain("it will not be shown again");
    const key = await notice.getByLabel("Your new key").inputValue();
    expect(key.length).toBeGreaterThan(20);
    await notice.getByRole("button", { name: "Copy key" }).click();
    await expect.poll(() => notice.getByRole("status").textContent()).toMatch(/Copied|Ctrl\+C/);

    // What the API stored: the scopes, the origins (each once, no trailing slash), the expiry; no secret in the list.
    const stored = (await listKeys()).find((k) => k.name === "checkout backend");
    expect(stored).toMatchObject({
      scopes: ["events:log", "stats:read"],
      allowedOrigins: ["https://shop.example.com", "https://admin.example.com"],
      lastUsedAt: null,
    });
    expect(stored?.expiresAt?.slice(0, 10)).toBe(expiresOn);
    expect(stored?.key).toBeUndefined();
    expect(key.startsWith(stored!.keyPrefix)).toBe(true);

    // Listed with its scopes, origins, expiry and no use yet.
    const row = page.locator(`[data-testid=api-keys-table] tr[data-key-id="${stored!.id}"]`);
    await row.waitFor();
    expect(await row.locator("th").textContent()).toBe("checkout backend");
    expect(await row.getByTestId("key-scopes").locator("li").allTextContents()).toEqual(["events:log", "stats:read"]);
    expect(await row.getByTestId("key-origins").locator("li").allTextContents()).toEqual(["https://shop.example.com", "https://admin.example.com"]);
    expect(await row.getByTestId("key-expires").textContent()).toContain(expiresOn);
    expect(await row.getByTestId("key-last-used").textContent()).toBe("never");

    // Dismissed, the key is gone from the page for good.
    await notice.getByRole("button", { name: "I have stored it" }).click();
    await notice.waitFor({ state: "detached" });
    expect(await page.content()).not.toContain(key);

    // Revoking asks first; Escape (or "Keep it") keeps the key and puts the focus back.
    const revoke = row.getByRole("button", { name: /^Revoke checkout backend/ });
    await revoke.click();
    const confirm = row.getByRole("group", { name: /Confirm revoking checkout backend/ });
    await confirm.waitFor();
    await page.keyboard.press("Escape");
    await confirm.waitFor({ state: "detached" });
    await expect.poll(() => revoke.evaluate((button) => button === document.activeElement)).toBe(true);
    expect((await listKeys()).map((k) => k.id)).toContain(stored!.id);

    await page.keyboard.press("Enter");
    await confirm.getByRole("button", { name: "Yes, revoke" }).click();
    await row.waitFor({ state: "detached" });
    await page.getByText("No API keys yet").waitFor();
    expect((await listKeys()).map((k) => k.id)).not.toContain(stored!.id);
    const refused = await fetch(`${baseUrl()}/v1/stats/event`, { headers: { "x-api-key": key } });
    expect(refused.status).toBe(401);
  });

  it("checks the form before sending: name, at least one scope, origins, an expiry in the future", async () => {
    const { page } = session;
    await session.signIn(admin);
    await session.goto("/dashboard/api-keys");
    await page.getByRole("button", { name: "New key" }).click();
    const form = page.getByRole("form", { name: "New API key" });
    await expect.poll(() => form.getByLabel("Name", { exact: true }).evaluate((input) => input === document.activeElement)).toBe(true);
    await form.getByLabel("Allowed origins (optional)").fill("shop.example.com, https://shop.example.com/checkout");
    await form.getByLabel("Expires on (optional)").fill("2020-01-01");
    await form.getByRole("button", { name: "Create" }).click();
    await expect.poll(() => form.locator("#api-key-name-error").textContent()).toBe("required");
    expect(await form.locator("#api-key-scopes-error").textContent()).toBe("choose at least one scope");
    expect(await form.locator("#api-key-origins-error").textContent()).toContain("shop.example.com, https://shop.example.com/checkout");
    expect(await form.locator("#api-key-expiry-error").textContent()).toBe("must be in the future");
    expect(await form.getByLabel("Name", { exact: true }).getAttribute("aria-invalid")).toBe("true");
    // Every scope is offered, with what it allows.
    expect(await form.getByRole("checkbox").count()).toBe(13);
    expect(await form.getByRole("checkbox", { name: "tokens:mint" }).getAttribute("aria-describedby")).toBeTruthy();
    await form.getByText("Exchange the key for user tokens").waitFor();
    await form.getByRole("button", { name: "Cancel" }).click();
    await form.waitFor({ state: "detached" });
  });

  it("lays out at 375 px without sideways scrolling, and on a desktop", async () => {
    await expectApi(201, admin, "POST", "/v1/admin/api-keys", {
      name: "a site with a rather long name for its key",
      scopes: ["events:log", "events:read", "users:read", "stats:read", "ledger:read"],
      allowedOrigins: ["https://a-very-long-subdomain-name.shop.example.com", "https://admin.example.com"],
    });
    await session.signIn(admin);
    const { page } = session;
    for (const [width, height] of [
      [375, 812],
      [1280, 900],
    ] as const) {
      await page.setViewportSize({ width, height });
      await session.goto("/dashboard/api-keys");
      await page.getByTestId("api-keys-table").waitFor();
      await page.getByRole("button", { name: "New key" }).click();
      await page.getByRole("form", { name: "New API key" }).waitFor();
      await page.waitForLoadState("networkidle");
      expect(await horizontalOverflow(page), `api-keys at ${width} px`).toBe(0);
    }
  });
});
