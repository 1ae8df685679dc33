import type { Browser } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { logEvent, seedShop } from "./fixtures";
import { adminTokenFor, DashboardSession, eventually, expectApi, launchBrowser, newProjectId } from "./harness";

let browser: Browser;
let session: DashboardSession;
let admin: string;
/** What the API answered to the logs below, added up: what the page must show. */
const logged = { events: 0, points: 0, users: new Set<string>(), purchases: { count: 0, conditionFailed: 0, limitReached: 0, points: 0 } };

type Stats = { data: { totalEvents: number; uniqueUsers: number; totalPoints: number } };

beforeAll(async () => {
  browser = await launchBrowser();
  admin = await adminTokenFor(newProjectId("analytics"));
  await seedShop(admin);
  // alice: two purchases within the daily limit of 2, a third past it, one whose condition fails (amount -5);
  // bob (gold) one purchase; three logins.
  const purchases: Array<[string, number]> = [
    ["alice", 10],
    ["alice", 20.4],
    ["alice", 30],
    ["alice", -5],
    ["bob", 12],
  ];
  for (const [userId, amount] of purchases) {
    const result = await logEvent(admin, "purchase_completed", userId, { amount });
    logged.purchases.count += 1;
    logged.purchases.points += result.points;
    if (amount <= 0) logged.purchases.conditionFailed += 1;
    if (result.limitReached) logged.purchases.limitReached += 1;
    logged.points += result.points;
    logged.users.add(userId);
  }
  for (const userId of ["alice", "bob", "carol"]) {
    logged.points += (await logEvent(admin, "daily_login", userId)).points;
    logged.users.add(userId);
  }
  logged.events = purchases.length + 3;
  // The consumer writes the stats within seconds: wait until the API has them all.
  await eventually("the stats to count every log", async () => {
    const stats = await expectApi<Stats>(200, admin, "GET", "/v1/stats/event?period=7d");
    return stats.body.data.totalEvents === logged.events;
  });
});
afterAll(async () => {
  await browser?.close();
});
beforeEach(async () => {
  session = await DashboardSession.open(browser);
});
afterEach(async ({ task }) => {
  await session.finish(`analytics ${task.name}`);
});

const text = (testId: string) => session.page.getByTestId(testId).locator(".stat-value").textContent();

describe("the analytics page", () => {
  it("shows the totals, daily charts, heat map and top events of what was logged", async () => {
    const { page } = session;
    expect(logged.purchases).toEqual({ count: 5, conditionFailed: 1, limitReached: 1, points: 10 + 20 + 24 });
    await session.signIn(admin);
    await page.getByTestId("total-events").waitFor();
    expect(await text("total-events")).toBe(String(logged.events));
    expect(await text("unique-users")).toBe(String(logged.users.size));
    expect(await text("total-points")).toBe(String(logged.points));

    for (const chart of ["chart-events", "chart-users", "chart-points"]) {
      expect(await page.getByTestId(chart).locator("canvas").count(), chart).toBe(1);
    }
    const heatCounts = await page
      .locator("[data-testid=hour-heat-map] td")
      .evaluateAll((cells) => cells.map((cell) => Number(cell.getAttribute("data-count"))));
    expect(heatCounts).toHaveLength(7 * 24);
    expect(heatCounts.reduce((a, b) => a + b, 0)).toBe(logged.events);

    const purchaseRow = page.locator("[data-testid=top-events] tr[data-event-id=purchase_completed] td");
    expect(await purchaseRow.allTextContents()).toEqual([String(logged.purchases.count), "2", String(logged.purchases.points)]);
  });

  it("shows one event's funnel: condition met, condition failed, limit reached", async () => {
    const { page } = session;
    await session.signIn(admin);
    await page.getByTestId("funnel").waitFor();
    expect(await page.getByLabel("Event", { exact: true }).inputValue()).toBe("purchase_completed");
    const value = (testId: string) => page.getByTestId(testId).textContent();
    expect(await value("funnel-logged")).toBe("5");
    expect(await value("funnel-condition-met")).toBe("4");
    expect(await value("funnel-rewarded")).toBe("3");
    expect(await value("funnel-condition-failed")).toBe("1");
    expect(await value("funnel-limit-reached")).toBe("1");
    expect(await value("funnel-points")).toBe(String(logged.purchases.points));

    await page.getByLabel("Event", { exact: true }).selectOption("daily_login");
    await expect.poll(() => value("funnel-logged")).toBe("3");
    expect(await value("funnel-points")).toBe("15");
  });

  it("answers the period picker: all time, a month, and an empty month", async () => {
    const { page } = session;
    await session.signIn(admin);
    await page.getByTestId("total-events").waitFor();
    await page.getByLabel("Period").selectOption("all");
    // `all` starts at the project's first event day: today (or yesterday, past midnight UTC).
    const today = new Date().toISOString().slice(0, 10);
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    await expect.poll(() => page.getByTestId("stats-window").textContent()).toMatch(new RegExp(`^(${today}|${yesterday}) to ${today} \\(UTC\\)$`));
    expect(await text("total-events")).toBe(String(logged.events));

    await page.getByLabel("Period").selectOption("month");
    const month = new Date().toISOString().slice(0, 7);
    await expect.poll(() => page.getByTestId("stats-window").textContent()).toContain(`${month}-01 to `);
    expect(await text("total-events")).toBe(String(logged.events));

    await page.getByLabel("Month").fill("2024-02");
    await expect.poll(() => page.getByTestId("stats-window").textContent()).toBe("2024-02-01 to 2024-02-29 (UTC)");
    expect(await text("total-events")).toBe("0");
    await page.getByText("No events were logged in this period.").waitFor();
  });
});
