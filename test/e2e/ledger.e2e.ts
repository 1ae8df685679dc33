import type { Browser } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { logEvent, PURCHASE, seedShop } from "./fixtures";
import { adminTokenFor, DashboardSession, eventually, expectApi, launchBrowser, newProjectId } from "./harness";

let browser: Browser;
let session: DashboardSession;
let admin: string;
let bobAccount: number;

type LedgerEntry = { id: number; loyaltyAccountId: number; reward: { rewardAmount: number; previousRewardAmount: number | null } | null };

beforeAll(async () => {
  browser = await launchBrowser();
  admin = await adminTokenFor(newProjectId("ledger"));
  await seedShop(admin, { ...PURCHASE, limit: 100 });
  // 25 entries: 15 purchases of alice's (1 point per EUR), 10 of bob's (gold: 2 per EUR).
  for (let i = 1; i <= 15; i++) await logEvent(admin, "purchase_completed", "alice", { amount: i });
  for (let i = 1; i <= 10; i++) await logEvent(admin, "purchase_completed", "bob", { amount: 10 });
  bobAccount = (await expectApi<{ accountId: number }>(200, admin, "GET", "/v1/admin/users/bob")).body.accountId;
  await eventually("the ledger to hold all 25 entries", async () => {
    const page = await expectApi<LedgerEntry[]>(200, admin, "GET", "/v1/loyalty-events?size=1");
    return page.headers.get("x-total-count") === "25";
  });
});
afterAll(async () => {
  await browser?.close();
});
beforeEach(async () => {
  session = await DashboardSession.open(browser);
});
afterEach(async ({ task }) => {
  await session.finish(`ledger ${task.name}`);
});

const rows = () => session.page.locator("[data-testid=ledger-table] tbody tr[data-ledger-id]");
const rowIds = async () => await rows().evaluateAll((trs) => trs.map((tr) => Number(tr.getAttribute("data-ledger-id"))));

describe("the ledger page", () => {
  it("pages through the entries and filters and sorts them", async () => {
    const { page } = session;
    await session.signIn(admin);
    await page.getByRole("link", { name: "Ledger" }).click();
    await expect.poll(() => page.getByTestId("pager-status").textContent()).toBe("Page 1 of 2 · 25 entries");
    expect(await rows().count()).toBe(20);
    const firstPage = await rowIds();
    expect(firstPage).toEqual([...firstPage].sort((a, b) => b - a));

    await page.getByRole("button", { name: "Next →" }).click();
    await expect.poll(() => page.getByTestId("pager-status").textContent()).toBe("Page 2 of 2 · 25 entries");
    expect(await rows().count()).toBe(5);
    expect(Math.max(...(await rowIds()))).toBeLessThan(Math.min(...firstPage));

    await page.getByLabel("User id").fill("bob");
    await page.getByLabel("Sort by").selectOption("id");
    await page.getByLabel("Order").selectOption("asc");
    await page.getByLabel("Per page").selectOption("50");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await expect.poll(() => page.getByTestId("pager-status").textContent()).toBe("Page 1 of 1 · 10 entries");
    const bobIds = await rowIds();
    expect(bobIds).toEqual([...bobIds].sort((a, b) => a - b));
    const accounts = await rows().evaluateAll((trs) => trs.map((tr) => tr.querySelectorAll("td")[1]?.textContent));
    expect(new Set(accounts)).toEqual(new Set([String(bobAccount)]));

    await page.getByLabel("Event type").selectOption("CUSTOMER_CARD_DISPLAYED");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await page.getByText("No loyalty events match these filters.").waitFor();
  });

  it("names the filter the API refuses", async () => {
    const { page } = session;
    session.expectConsoleError(/status of 404/);
    await session.signIn(admin);
    await session.goto("/dashboard/ledger");
    await page.getByLabel("User id").fill("nobody");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await expect.poll(() => page.locator("#ledger-user-error").textContent()).toBe("User nobody is not registered in this project");
    expect(await page.getByLabel("User id").getAttribute("aria-invalid")).toBe("true");
  });

  it("adjusts one entry: the row shows the new amount, the API and the balance agree", async () => {
    const { page } = session;
    session.expectConsoleError(/status of 400/);
    await session.signIn(admin);
    await session.goto("/dashboard/ledger");
    await page.getByLabel("User id").fill("bob");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await expect.poll(() => page.getByTestId("pager-status").textContent()).toBe("Page 1 of 1 · 10 entries");
    const row = rows().first();
    const id = Number(await row.getAttribute("data-ledger-id"));
    expect(await row.getByTestId("ledger-reward").textContent()).toBe("20 points");
    const balanceBefore = (await expectApi<{ balance: number }>(200, admin, "GET", "/v1/admin/users/bob")).body.balance;

    await row.getByRole("button", { name: `Adjust entry ${id}` }).click();
    const form = page.getByRole("form", { name: `Adjust the reward of ledger entry ${id}` });
    // Above the original amount: the API refuses it (the definition does not allow increases), shown at the form.
    await form.getByLabel("New reward amount").fill("50");
    await form.getByLabel("Reason").fill("goodwill");
    await form.getByRole("button", { name: "Apply adjustment" }).click();
    const notice = form.locator(".notice-error");
    await expect.poll(() => notice.textContent()).toContain(`Could not adjust entry ${id}`);
    expect(await notice.textContent()).toContain("HTTP 400");
    expect(await form.getByLabel("New reward amount").getAttribute("aria-invalid")).toBe("true");

    await form.getByLabel("New reward amount").fill("5");
    await form.getByLabel("Reason").fill("partly returned");
    await form.getByRole("button", { name: "Apply adjustment" }).click();
    await expect.poll(() => row.getByTestId("ledger-reward").textContent()).toBe("5 pointswas 20");
    await page.getByText(`Entry ${id} now rewards 5 points.`).waitFor();

    const adjusted = await eventually("the ledger to show the adjustment", async () => {
      const entry = await expectApi<LedgerEntry>(200, admin, "GET", `/v1/loyalty-events/${id}`);
      return entry.body.reward?.rewardAmount === 5 ? entry.body : null;
    });
    expect(adjusted.reward?.previousRewardAmount).toBe(20);
    expect((await expectApi<{ balance: number }>(200, admin, "GET", "/v1/admin/users/bob")).body.balance).toBe(balanceBefore - 15);

    // Reloaded from the API, the row still shows it.
    await page.reload();
    await page.getByLabel("User id").fill("bob");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await expect.poll(() => page.locator(`tr[data-ledger-id="${id}"] [data-testid=ledger-reward]`).textContent()).toBe("5 pointswas 20");
  });
});
