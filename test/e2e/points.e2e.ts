import type { Browser, Locator } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { logEvent, PURCHASE, seedShop } from "./fixtures";
import { adminTokenFor, baseUrl, DashboardSession, eventually, expectApi, horizontalOverflow, launchBrowser, newProjectId } from "./harness";

let browser: Browser;
let session: DashboardSession;
let admin: string;

type Settings = { pointsExpiry: { mode: string; days?: number }; timezone: string; userTokensMayRedeem: boolean; version: number; updatedAt: string | null };
type Ladder = { window: string; downgrade: string; levels: Array<{ tierId: string; title: string; minPoints: number }>; version: number };
type Profile = {
  balance: number;
  expiring: Array<{ points: number; expiresAt: string }>;
  tier: { tierId: string | null; title: string | null; pointsInWindow: number; next: { tierId: string; pointsNeeded: number } | null } | null;
};
type HistoryEntry = { type: string; points: number; balanceAfter: number; reference: string | null };

const profileOf = async (userId: string) => (await expectApi<Profile>(200, admin, "GET", `/v1/users/${userId}`)).body;
const historyOf = async (userId: string) =>
  (await expectApi<{ entries: HistoryEntry[] }>(200, admin, "GET", `/v1/users/${userId}/points-history?limit=100`)).body.entries;

beforeAll(async () => {
  browser = await launchBrowser();
  admin = await adminTokenFor(newProjectId("points"));
  // 1 point per EUR (alice is in no usergroup), no daily limit that matters here.
  await seedShop(admin, { ...PURCHASE, limit: 100 });
});
afterAll(async () => {
  await browser?.close();
});
beforeEach(async () => {
  session = await DashboardSession.open(browser);
});
afterEach(async ({ task }) => {
  await session.finish(`points ${task.name}`);
});

/** The rows of the points history table as the page shows them: type, signed points, balance after. */
const shownHistory = (table: Locator) =>
  table.locator("tbody tr").evaluateAll((rows) =>
    rows.map((row) => ({
      type: row.querySelector("[data-testid=history-type]")?.textContent ?? "",
      points: row.querySelector("[data-testid=history-points]")?.textContent ?? "",
      balance: row.querySelector("[data-testid=history-balance]")?.textContent ?? "",
    })),
  );
/** An API history entry as the page writes it ("+150", "−100", "—" for a tier change). */
const asShown = (entry: HistoryEntry) => ({
  type: entry.type,
  points: entry.type === "tier" ? "—" : `${entry.points > 0 ? "+" : entry.points < 0 ? "−" : ""}${Math.abs(entry.points).toLocaleString("en-US")}`,
  balance: entry.balanceAfter.toLocaleString("en-US"),
});
const isFocused = (locator: Locator) => locator.evaluate((element) => element === document.activeElement);

describe("Points lifecycle", () => {
  it("sets the points settings and the tier ladder through their pages, with the API's refusals at their fields", async () => {
    const { page } = session;
    // Chromium logs the API's refusals (400) and the ladder not set yet (404) as console errors.
    session.expectConsoleError(/status of 400/);
    session.expectConsoleError(/status of 404/);
    await session.signIn(admin);

    // Settings: the defaults, never set.
    await page.getByRole("link", { name: "Settings" }).click();
    await page.getByRole("heading", { name: "Settings", level: 1 }).waitFor();
    const settingsForm = page.getByRole("form", { name: "Points settings" });
    await settingsForm.waitFor();
    expect(await page.getByTestId("settings-version").textContent()).toContain("never set");
    expect(await settingsForm.getByLabel("Points expire").inputValue()).toBe("none");
    expect(await settingsForm.getByLabel("Time zone").inputValue()).toBe("UTC");
    expect(await settingsForm.getByLabel("User tokens may redeem").isChecked()).toBe(false);
    expect(await settingsForm.locator("datalist#settings-timezones option[value='Europe/Berlin']").count()).toBe(1);

    // The form checks the days; the API checks the zone and names it.
    await settingsForm.getByLabel("Points expire").selectOption("after_days");
    await settingsForm.getByLabel("Days", { exact: true }).fill("0");
    await settingsForm.getByLabel("Time zone").fill("Mars/Olympus_Mons");
    await settingsForm.getByRole("button", { name: "Save changes" }).click();
    await expect.poll(() => settingsForm.locator("#settings-expiry-days-error").textContent()).toBe("a whole number from 1 to 3650");
    await settingsForm.getByLabel("Days", { exact: true }).fill("30");
    await settingsForm.getByRole("button", { name: "Save changes" }).click();
    await expect.poll(() => settingsForm.locator("#settings-timezone-error").textContent()).toMatch(/^must be an IANA time zone name/);
    expect(await settingsForm.getByLabel("Time zone").getAttribute("aria-invalid")).toBe("true");

    await settingsForm.getByLabel("Time zone").fill("europe/berlin");
    await settingsForm.getByLabel("User tokens may redeem").check();
    await settingsForm.getByRole("button", { name: "Save changes" }).click();
    await page.getByText("Settings saved.").waitFor();
    const settings = (await expectApi<Settings>(200, admin, "GET", "/v1/admin/project/settings")).body;
    expect(settings).toMatchObject({ pointsExpiry: { mode: "after_days", days: 30 }, timezone: "Europe/Berlin", userTokensMayRedeem: true });
    // The stored version and time are shown, and the form holds the stored (canonical) zone.
    await expect.poll(() => page.getByTestId("settings-version").textContent()).toContain(`Version ${settings.version}`);
    expect(await page.getByTestId("settings-version").textContent()).toContain(settings.updatedAt!.slice(0, 10));
    await expect.poll(() => page.getByRole("form", { name: "Points settings" }).getByLabel("Time zone").inputValue()).toBe("Europe/Berlin");

    // Tiers: none yet.
    await page.getByRole("link", { name: "Tiers" }).click();
    await page.getByRole("heading", { name: "Tiers", level: 1 }).waitFor();
    await page.getByText("No tier ladder yet").waitFor();
    const form = page.getByRole("form", { name: "Tier ladder" });
    await form.getByLabel("Window").selectOption("lifetime");
    await form.getByLabel("Downgrade").selectOption("never");
    await form.getByLabel("Tier id of level 1").fill("silver");
    await form.getByLabel("Title of level 1").fill("Silver");
    await form.getByLabel("Minimum points of level 1").fill("100");
    await form.getByRole("button", { name: "Add a level" }).click();
    await form.getByLabel("Tier id of level 2").fill("gold");
    await form.getByLabel("Title of level 2").fill("Gold");
    await form.getByLabel("Minimum points of level 2").fill("100");
    // A third row, added and removed again: the focus goes back to "Add a level".
    await form.getByRole("button", { name: "Add a level" }).click();
    await form.getByLabel("Tier id of level 3").fill("platinum");
    await form.getByRole("button", { name: "Remove level 3 (platinum)" }).click();
    expect(await form.getByRole("listitem", { name: /^Level \d$/ }).count()).toBe(2);
    expect(await isFocused(form.getByRole("button", { name: "Add a level" }))).toBe(true);

    // Two levels at the same minimum: the API refuses the second, at its field.
    await form.getByRole("button", { name: "Create" }).click();
    const secondMin = form.getByLabel("Minimum points of level 2");
    await expect.poll(() => secondMin.getAttribute("aria-invalid")).toBe("true");
    const errorId = (await secondMin.getAttribute("aria-describedby"))!.split(" ").find((id) => id.endsWith("-error"))!;
    expect(await form.locator(`#${errorId}`).textContent()).toMatch(/^equals levels\.0\.minPoints \(100\)/);
    expect(await form.getByLabel("Minimum points of level 1").getAttribute("aria-invalid")).toBeNull();
    expect((await expectApi(404, admin, "GET", "/v1/admin/tiers")).status).toBe(404);

    await secondMin.fill("300");
    await form.getByRole("button", { name: "Create" }).click();
    await page.getByText("Tier ladder created: 2 levels").waitFor();
    const ladder = (await expectApi<Ladder>(200, admin, "GET", "/v1/admin/tiers")).body;
    expect(ladder).toMatchObject({
      window: "lifetime",
      downgrade: "never",
      levels: [
        { tierId: "silver", title: "Silver", minPoints: 100 },
        { tierId: "gold", title: "Gold", minPoints: 300 },
      ],
    });
    await expect.poll(() => page.getByTestId("tiers-version").textContent()).toContain(`Version ${ladder.version}`);
    // Saved, the form edits the stored ladder.
    await page.getByRole("form", { name: "Tier ladder" }).getByRole("button", { name: "Save changes" }).waitFor();
    expect(await page.getByRole("form", { name: "Tier ladder" }).getByLabel("Tier id of level 2").inputValue()).toBe("gold");
  });

  it("shows alice's tier, progress and expiring points; redeems (a too-large amount refused at the points field), reverses, and lists the history with running balances", async () => {
    // The settings and ladder are in force once a log gets a lot with an expiry and a tier (within 5 s everywhere).
    await eventually("the points policy in force", async () => {
      await logEvent(admin, "purchase_completed", "carol", { amount: 1 });
      const carol = await profileOf("carol");
      return carol.expiring.length > 0 && carol.tier !== null;
    });
    // alice: 150 points for a purchase and 5 for a login: Silver (from 100), 145 short of Gold (300).
    await logEvent(admin, "purchase_completed", "alice", { amount: 150 });
    await logEvent(admin, "daily_login", "alice");
    const before = await profileOf("alice");
    expect(before).toMatchObject({
      balance: 155,
      tier: { tierId: "silver", title: "Silver", pointsInWindow: 155, next: { tierId: "gold", pointsNeeded: 145 } },
    });
    expect(before.expiring).toHaveLength(1);
    expect(before.expiring[0]!.points).toBe(155);

    const { page } = session;
    // Chromium logs the refused redemption (422) as a console error.
    session.expectConsoleError(/status of 422/);
    await session.signIn(admin);
    await page.getByRole("link", { name: "Users" }).click();
    await page.getByLabel("User id").fill("alice");
    await page.getByRole("button", { name: "Look up" }).click();
    const balance = page.getByTestId("user-balance").locator(".stat-value");
    await expect.poll(() => balance.textContent()).toBe("155");

    // The tier, with its progress to the next one.
    const tier = page.getByTestId("user-tier");
    expect(await tier.getByTestId("tier-title").textContent()).toBe("Silver");
    expect(await tier.getByTestId("tier-points-in-window").textContent()).toBe("155");
    expect(await tier.textContent()).toContain("Points earned in the member's lifetime");
    const progress = page.getByRole("progressbar", { name: "145 more points to Gold (155 of 300)" });
    expect(await progress.getAttribute("value")).toBe("155");
    expect(await progress.getAttribute("max")).toBe("300");

    // The expiring points: at midnight in Berlin, 31 days on.
    const expiring = page.getByTestId("user-expiring").locator("li");
    expect(await expiring.count()).toBe(1);
    expect(await expiring.first().textContent()).toMatch(/^155 points expire at \d{4}-\d{2}-\d{2} 00:00 \(Europe\/Berlin\)$/);
    expect(await expiring.first().locator("time").getAttribute("datetime")).toBe(before.expiring[0]!.expiresAt);

    // Too many points: the API's 422 at the points field; the same submission again is sent with the same key.
    const redeem = page.getByRole("form", { name: "Redeem points" });
    const keyNote = redeem.getByTestId("redeem-idempotency-key");
    const nextRedemption = () => page.waitForResponse((r) => r.url().endsWith("/v1/users/alice/redemptions") && r.request().method() === "POST");
    await redeem.getByLabel("Points", { exact: true }).fill("1000");
    await redeem.getByLabel("Reason", { exact: true }).fill("a bicycle");
    let sent = nextRedemption();
    await redeem.getByRole("button", { name: "Redeem", exact: true }).click();
    const refused = await sent;
    expect(refused.status()).toBe(422);
    const refusedKey = refused.request().headers()["idempotency-key"];
    expect(refusedKey).toMatch(/^dashboard-[0-9a-f-]{36}$/);
    await expect.poll(() => redeem.locator("#redeem-points-error").textContent()).toBe("must be at most the balance, 155");
    expect(await redeem.getByLabel("Points", { exact: true }).getAttribute("aria-invalid")).toBe("true");
    expect(await redeem.getByRole("alert").filter({ hasText: "Could not redeem" }).textContent()).toContain("HTTP 422");
    expect(await keyNote.locator("code").textContent()).toBe(refusedKey);
    sent = nextRedemption();
    await redeem.getByRole("button", { name: "Retry redemption" }).click();
    const retried = await sent;
    expect(retried.status()).toBe(422);
    expect(retried.request().headers()["idempotency-key"]).toBe(refusedKey);
    await redeem.getByRole("button", { name: "Retry redemption" }).waitFor();
    expect(await keyNote.locator("code").textContent()).toBe(refusedKey);
    expect(await balance.textContent()).toBe("155");

    // A changed form is a new submission, with a new key: it redeems 100 points.
    await redeem.getByLabel("Points", { exact: true }).fill("100");
    await redeem.getByLabel("Reason", { exact: true }).fill("10 EUR voucher");
    await redeem.getByLabel("Reference (optional)").fill("V-7");
    expect(await keyNote.textContent()).toContain("the changed form gets a new key");
    sent = nextRedemption();
    await redeem.getByRole("button", { name: "Redeem", exact: true }).click();
    const redeemed = await sent;
    expect(redeemed.status()).toBe(201);
    const usedKey = redeemed.request().headers()["idempotency-key"];
    expect(usedKey).toMatch(/^dashboard-[0-9a-f-]{36}$/);
    expect(usedKey).not.toBe(refusedKey);
    await page.getByTestId("redeemed-balance").waitFor();
    expect(await page.getByTestId("redeemed-balance").textContent()).toBe("55");
    await expect.poll(() => balance.textContent()).toBe("55");
    expect(await keyNote.locator("code").textContent()).toBe(usedKey);
    expect(await redeem.getByLabel("Points", { exact: true }).inputValue()).toBe("");
    // The same body under that key again is a replay, and takes nothing more.
    const replay = await fetch(`${baseUrl()}/v1/users/alice/redemptions`, {
      method: "POST",
      headers: { authorization: `Bearer ${admin}`, "content-type": "application/json", "idempotency-key": usedKey! },
      body: JSON.stringify({ points: 100, reason: "10 EUR voucher", reference: "V-7" }),
    });
    expect(replay.status).toBe(201);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(((await replay.json()) as { balance: number }).balance).toBe(55);
    expect((await profileOf("alice")).balance).toBe(55);

    // The history shows the redemption, newest first, with the running balance.
    const table = page.getByTestId("points-history");
    await expect.poll(async () => (await shownHistory(table))[0]).toEqual({ type: "redeem", points: "−100", balance: "55" });
    const redeemRow = table.locator("tbody tr[data-type=redeem]");
    expect(await redeemRow.textContent()).toContain("10 EUR voucher");
    expect(await redeemRow.textContent()).toContain("V-7");

    // Reverse it: asks first (Escape keeps it and puts the focus back), needs a reason.
    const reverse = redeemRow.getByRole("button", { name: /^Reverse the redemption of 100 points/ });
    await reverse.click();
    const confirm = redeemRow.getByRole("form", { name: /^Confirm reversing the redemption of 100 points/ });
    await confirm.waitFor();
    expect(await isFocused(confirm.getByRole("button", { name: "Keep it" }))).toBe(true);
    await page.keyboard.press("Escape");
    await confirm.waitFor({ state: "detached" });
    await expect.poll(() => isFocused(reverse)).toBe(true);
    await page.keyboard.press("Enter");
    await confirm.getByRole("button", { name: "Yes, reverse" }).click();
    await expect.poll(() => confirm.locator(".field-error").textContent()).toBe("say why (the history shows it)");
    await confirm.getByLabel("Reason for the reversal").fill("order cancelled");
    await confirm.getByLabel("Reason for the reversal").press("Enter");
    await page.getByText("Reversed: 100 points back for “10 EUR voucher”; the balance is now 155.").waitFor();
    await expect.poll(() => balance.textContent()).toBe("155");
    await expect.poll(async () => (await shownHistory(table))[0]).toEqual({ type: "reverse", points: "+100", balance: "155" });
    expect(await redeemRow.textContent()).toContain("reversed");
    expect(await redeemRow.getByRole("button", { name: /^Reverse/ }).count()).toBe(0);

    // The whole history: earn, tier, earn, redeem, reverse, the running balance ending at the profile's.
    const entries = await historyOf("alice");
    expect(entries.map((e) => e.type)).toEqual(["reverse", "redeem", "earn", "tier", "earn"]);
    expect(await shownHistory(table)).toEqual(entries.map(asShown));
    for (const [i, entry] of entries.entries()) {
      const older = entries[i + 1];
      expect(entry.balanceAfter).toBe((older?.balanceAfter ?? 0) + entry.points);
    }
    const after = await profileOf("alice");
    expect(after.balance).toBe(155);
    expect(entries[0]!.balanceAfter).toBe(after.balance);
    // A reversal is no earning: the tier's points stay 155.
    expect(after.tier?.pointsInWindow).toBe(155);
  });

  it("lays out at 375 px without sideways scrolling, and deletes the ladder after a confirmation", async () => {
    const { page } = session;
    await session.signIn(admin);
    for (const [width, height] of [
      [375, 812],
      [1280, 900],
    ] as const) {
      await page.setViewportSize({ width, height });
      for (const [path, ready] of [
        ["users/alice", page.getByTestId("points-history")],
        ["tiers", page.getByRole("form", { name: "Tier ladder" })],
        ["settings", page.getByRole("form", { name: "Points settings" })],
      ] as const) {
        await session.goto(`/dashboard/${path}`);
        await ready.waitFor();
        await page.waitForLoadState("networkidle");
        expect(await horizontalOverflow(page), `${path} at ${width} px`).toBe(0);
      }
    }

    // Delete asks first; Escape keeps the ladder and puts the focus back.
    await session.goto("/dashboard/tiers");
    const remove = page.getByRole("button", { name: "Delete the ladder" });
    await remove.click();
    const confirm = page.getByRole("group", { name: "Confirm deleting the tier ladder" });
    await confirm.waitFor();
    await page.keyboard.press("Escape");
    await confirm.waitFor({ state: "detached" });
    await expect.poll(() => isFocused(remove)).toBe(true);
    expect((await expectApi(200, admin, "GET", "/v1/admin/tiers")).status).toBe(200);

    session.expectConsoleError(/status of 404/);
    await page.keyboard.press("Enter");
    await confirm.getByRole("button", { name: "Yes, delete" }).click();
    await page.getByText("No tier ladder yet").waitFor();
    await page.getByText("Tier ladder deleted").waitFor();
    await expectApi(404, admin, "GET", "/v1/admin/tiers");
    expect(await page.getByRole("form", { name: "Tier ladder" }).getByRole("button", { name: "Create" }).count()).toBe(1);
  });
});
