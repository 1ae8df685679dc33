import type { Browser } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { logEvent, PURCHASE, seedShop } from "./fixtures";
import { adminTokenFor, DashboardSession, eventually, expectApi, launchBrowser, newProjectId } from "./harness";

let browser: Browser;
let session: DashboardSession;
let admin: string;

type Standings = { totalParticipants: number; periodStart: string; entries: Array<{ rank: number; userId: string; score: number }> };
type StreakAnalytics = { totalParticipants: number; activeParticipants: number; longestUserStreak: number } | null;

beforeAll(async () => {
  browser = await launchBrowser();
  admin = await adminTokenFor(newProjectId("games"));
  await seedShop(admin, { ...PURCHASE, limit: 100 });
  await expectApi(201, admin, "PUT", "/v1/admin/streaks/login_streak", { title: "Login streak", eventIds: ["daily_login"], period: "day", goal: 2 });
  await expectApi(201, admin, "PUT", "/v1/admin/challenges/two_purchases", {
    title: "Two purchases a week",
    eventIds: ["purchase_completed"],
    metric: "count",
    target: 2,
    period: "week",
    rewardPoints: 50,
  });
  await expectApi(201, admin, "PUT", "/v1/admin/leaderboards/weekly_points", { title: "Points this week", metric: "points", period: "week" });

  // bob (gold) 40 points; alice and carol 20 each, alice first: ranks 1, 2, 2. Nobody completes the challenge.
  await logEvent(admin, "purchase_completed", "bob", { amount: 20 });
  await logEvent(admin, "purchase_completed", "alice", { amount: 20 });
  await logEvent(admin, "purchase_completed", "carol", { amount: 20 });
  // alice logs in yesterday (backfilled) and today: a streak of 2, which is the goal; dave today only.
  const yesterdayNoon = `${new Date(Date.now() - 86_400_000).toISOString().slice(0, 10)}T12:00:00Z`;
  await logEvent(admin, "daily_login", "alice", undefined, yesterdayNoon);
  await logEvent(admin, "daily_login", "alice");
  await logEvent(admin, "daily_login", "dave");
  await eventually("the standings and streak analytics", async () => {
    const board = await expectApi<Standings>(200, admin, "GET", "/v1/leaderboards/weekly_points");
    const streak = await expectApi<StreakAnalytics>(200, admin, "GET", "/v1/analytics/streak?streakId=login_streak");
    const boardScores = board.body.entries.reduce((sum, e) => sum + e.score, 0);
    // Logins award points too (5 each, the backfilled one counts in its own week).
    return board.body.totalParticipants === 4 && boardScores > 80 && streak.body?.totalParticipants === 2;
  });
});
afterAll(async () => {
  await browser?.close();
});
beforeEach(async () => {
  session = await DashboardSession.open(browser);
});
afterEach(async ({ task }) => {
  await session.finish(`games ${task.name}`);
});

describe("leaderboards, streaks, challenges and users", () => {
  it("shows a leaderboard's standings with ranks, and its past periods", async () => {
    const { page } = session;
    const expected = (await expectApi<Standings>(200, admin, "GET", "/v1/leaderboards/weekly_points?limit=25")).body;
    await session.signIn(admin);
    await page.getByRole("link", { name: "Leaderboards" }).click();
    await page.getByTestId("standings-table").waitFor();
    const shown = await page.locator("[data-testid=standings-table] tbody tr").evaluateAll((trs) =>
      trs.map((tr) => ({
        rank: Number(tr.querySelector("[data-testid=rank]")?.textContent),
        userId: tr.getAttribute("data-user-id"),
        score: Number(tr.querySelector("[data-testid=score]")?.textContent?.replace(/,/g, "")),
      })),
    );
    expect(shown).toEqual(expected.entries);
    const bob = expected.entries.find((e) => e.userId === "bob");
    const alice = expected.entries.find((e) => e.userId === "alice");
    expect(bob?.rank).toBe(1);
    expect(bob?.score).toBeGreaterThan(alice?.score ?? Infinity);

    await page.getByRole("button", { name: "← Previous week" }).click();
    const previousWeek = new Date(Date.parse(`${expected.periodStart}T00:00:00Z`) - 7 * 86_400_000).toISOString().slice(0, 10);
    await expect.poll(() => page.getByTestId("standings-period").textContent()).toContain(previousWeek);
    const previous = (await expectApi<Standings>(200, admin, "GET", `/v1/leaderboards/weekly_points?periodStart=${previousWeek}`)).body;
    if (previous.entries.length === 0) await page.getByText("Nobody has a score in this period yet.").waitFor();
    else await expect.poll(() => page.locator("[data-testid=standings-table] tbody tr").count()).toBe(previous.entries.length);
    await page.getByRole("button", { name: "Current week" }).click();
    await expect.poll(() => page.getByTestId("standings-period").textContent()).toContain("current");
  });

  it("shows the streak analytics cards, and a user's balance, streak and challenge progress", async () => {
    const { page } = session;
    const analytics = (await expectApi<NonNullable<StreakAnalytics>>(200, admin, "GET", "/v1/analytics/streak?streakId=login_streak")).body;
    await session.signIn(admin);
    await page.getByRole("link", { name: "Streaks" }).click();
    const card = page.locator("[data-streak-id=login_streak]");
    await card.getByTestId("streak-analytics").waitFor();
    const value = (testId: string) => card.getByTestId(testId).locator(".stat-value").textContent();
    expect(await value("streak-participants")).toBe(String(analytics.totalParticipants));
    expect(await value("streak-active")).toBe(String(analytics.activeParticipants));
    expect(await value("streak-longest")).toBe("2");

    const profile = (await expectApi<{ balance: number }>(200, admin, "GET", "/v1/users/alice")).body;
    await page.getByRole("link", { name: "Users" }).click();
    await page.getByLabel("User id").fill("alice");
    await page.getByRole("button", { name: "Look up" }).click();
    await expect.poll(() => page.getByTestId("user-balance").locator(".stat-value").textContent()).toBe(String(profile.balance));
    expect(await page.locator("[data-testid=user-streaks] tbody tr th").textContent()).toBe("login_streak");
    expect(await page.locator("[data-testid=user-streaks] tbody tr td").first().textContent()).toBe("2");
    expect(await page.getByTestId("user-challenges").textContent()).toContain("two_purchases: 1 of 2");
    await expect.poll(() => page.locator("[data-testid=ledger-table] tbody tr[data-ledger-id]").count()).toBe(3);
  });

  it("creates a streak and shows the API's refusal at the field it names", async () => {
    const { page } = session;
    session.expectConsoleError(/status of 400/);
    await session.signIn(admin);
    await session.goto("/dashboard/streaks");
    await page.getByRole("button", { name: "New streak" }).click();
    const form = page.getByRole("form", { name: "New streak" });
    await form.getByLabel("Id", { exact: true }).fill("weekly_buyer");
    await form.getByLabel("Title", { exact: true }).fill("Weekly buyer");
    await form.getByLabel("Period", { exact: true }).selectOption("week");
    await form.getByLabel("Goal (periods in a row)").fill("4");
    await form.getByLabel("purchase_completed").check();
    await form.getByLabel("Time zone").fill("Mars/Olympus_Mons");
    await form.getByRole("button", { name: "Create" }).click();
    await expect.poll(() => form.locator("#streak-timezone-error").textContent()).toMatch(/^must be an IANA time zone name such as Europe\/Berlin/);

    await form.getByLabel("Time zone").fill("Europe/Berlin");
    await form.getByRole("button", { name: "Create" }).click();
    await page.locator("[data-streak-id=weekly_buyer]").waitFor();
    const saved = await expectApi<{ period: string; goal: number; timezone: string; eventIds: string[] }>(200, admin, "GET", "/v1/admin/streaks/weekly_buyer");
    expect(saved.body).toMatchObject({ period: "week", goal: 4, timezone: "Europe/Berlin", eventIds: ["purchase_completed"] });
    await page.locator("[data-streak-id=weekly_buyer]").getByText("No participants yet.").waitFor();
  });
});
