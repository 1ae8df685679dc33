import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser, Locator } from "playwright-core";
import { Webhook } from "standardwebhooks";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { logEvent, PURCHASE, seedShop } from "./fixtures";
import { adminTokenFor, DashboardSession, eventually, expectApi, horizontalOverflow, launchBrowser, newProjectId } from "./harness";

let browser: Browser;
let session: DashboardSession;
let admin: string;

type Endpoint = { id: string; url: string; eventTypes: string[]; enabled: boolean; disabledReason: string | null; secret?: string };
type Delivery = { id: string; eventId: string; eventType: string; status: string; attempts: number; responseStatus: number | null };
type WebhookEvent = { id: string; type: string; projectId: string; data: Record<string, unknown> };

/** What the receiver got: the raw body (what a signature covers) and the headers, as a receiver sees them. */
type Received = { path: string; headers: Record<string, string>; body: string; event: WebhookEvent };

/** A receiver on 127.0.0.1 that records every request and answers 200 with a short text. */
let receiver: Server;
let receiverBase: string;
const received: Received[] = [];

const flatHeaders = (headers: IncomingHttpHeaders): Record<string, string> =>
  Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(", ") : (value ?? "")]));

const listEndpoints = async () => (await expectApi<Endpoint[]>(200, admin, "GET", "/v1/admin/webhooks")).body;
const deliveriesOf = async (id: string) =>
  (await expectApi<{ items: Delivery[] }>(200, admin, "GET", `/v1/admin/webhooks/${id}/deliveries?limit=100`)).body.items;
const receivedAt = (path: string) => received.filter((r) => r.path === path);

beforeAll(async () => {
  browser = await launchBrowser();
  admin = await adminTokenFor(newProjectId("webhooks"));
  await seedShop(admin, { ...PURCHASE, limit: 100 });
  await expectApi(201, admin, "PUT", "/v1/admin/challenges/two_purchases", {
    title: "Two purchases a week",
    eventIds: ["purchase_completed"],
    metric: "count",
    target: 2,
    period: "week",
    rewardPoints: 50,
  });
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      received.push({ path: request.url ?? "", headers: flatHeaders(request.headers), body, event: JSON.parse(body) as WebhookEvent });
      response.writeHead(200, { "content-type": "text/plain" });
      response.end(`received ${request.headers["webhook-id"] ?? "?"}`);
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  receiverBase = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
});
beforeEach(async () => {
  session = await DashboardSession.open(browser);
});
afterEach(async ({ task }) => {
  await session.finish(`webhooks ${task.name}`);
});

/** The card of one endpoint on the page. */
const cardOf = (id: string): Locator => session.page.locator(`article[data-endpoint-id="${id}"]`);

/** Opens the card's delivery list. */
async function openDeliveries(card: Locator) {
  await card.getByRole("button", { name: "Deliveries", exact: true }).click();
  await card.getByRole("heading", { name: "Deliveries", level: 3 }).waitFor();
}
const deliveryRow = (card: Locator, eventType: string) =>
  card.locator("tr[data-delivery-id]").filter({ has: card.page().getByText(eventType, { exact: true }) });
/** Refreshes the list until the row of `eventType` shows `status` (an attempt's record is written after the receiver answers). */
async function refreshUntil(card: Locator, eventType: string, status: string) {
  await expect
    .poll(
      async () => {
        await card.getByRole("button", { name: "Refresh" }).click();
        const row = deliveryRow(card, eventType);
        return (await row.count()) > 0 ? row.first().getByTestId("delivery-status").textContent() : null;
      },
      { timeout: 30_000, interval: 500 },
    )
    .toBe(status);
}

describe("Webhooks", () => {
  it("creates an endpoint (a non-https URL refused at its field), and a completed challenge reaches the receiver signed with the secret the page showed", async () => {
    const { page } = session;
    // Chromium logs the API's 400 (the refused URL) as a console error.
    session.expectConsoleError(/status of 400/);
    await session.signIn(admin);
    await page.getByRole("link", { name: "Webhooks" }).click();
    await page.getByRole("heading", { name: "Webhooks", level: 1 }).waitFor();
    await page.getByText("No webhook endpoints yet").waitFor();
    await page.getByRole("button", { name: "New endpoint" }).click();

    const form = page.getByRole("form", { name: "New webhook endpoint" });
    // Every type is offered with what it sends; event.logged is marked as loud.
    expect(await form.getByRole("checkbox").count()).toBe(11); // 10 types and "Enabled"
    expect(await form.getByRole("checkbox", { name: "event.logged" }).getAttribute("aria-describedby")).toBeTruthy();
    await form.getByText("loud", { exact: true }).waitFor();

    // The form sends no empty draft; the API refuses a public http URL, at the URL field.
    await form.getByRole("button", { name: "Create" }).click();
    await expect.poll(() => form.locator("#webhook-new-url-error").textContent()).toBe("required");
    expect(await form.locator("#webhook-new-types-error").textContent()).toBe("choose at least one event type");
    await form.getByLabel("URL", { exact: true }).fill("http://example.com/hooks");
    await form.getByLabel("challenge.completed", { exact: true }).check();
    await form.getByRole("button", { name: "Create" }).click();
    await expect.poll(() => form.locator("#webhook-new-url-error").textContent()).toMatch(/must be https/);
    expect(await form.getByLabel("URL", { exact: true }).getAttribute("aria-invalid")).toBe("true");
    expect(await listEndpoints()).toEqual([]);

    const url = `${receiverBase}/hooks/challenges`;
    await form.getByLabel("URL", { exact: true }).fill(url);
    await form.getByLabel("Description (optional)").fill("CRM sync");
    await form.getByRole("button", { name: "Create" }).click();

    // The secret, once.
    const notice = page.getByTestId("webhook-secret");
    await notice.waitFor();
    expect(await notice.textContent()).toContain("it will not be shown again");
    const secret = await notice.getByLabel("Signing secret").inputValue();
    expect(secret).toMatch(/^whsec_/);
    const [stored] = await listEndpoints();
    expect(stored).toMatchObject({ url, eventTypes: ["challenge.completed"], enabled: true, description: "CRM sync" });
    expect(stored?.secret).toBeUndefined();
    const card = cardOf(stored!.id);
    await card.waitFor();
    expect(await card.getByTestId("endpoint-event-types").locator("li").allTextContents()).toEqual(["challenge.completed"]);
    expect(await card.getByTestId("endpoint-status").textContent()).toContain("enabled");

    // Two purchases complete the challenge; the receiver hears of it, signed with the secret shown.
    await logEvent(admin, "purchase_completed", "alice", { amount: 10 });
    const second = await logEvent(admin, "purchase_completed", "alice", { amount: 10 });
    const delivered = await eventually(
      "the challenge.completed delivery",
      async () => receivedAt("/hooks/challenges").find((r) => r.event.type === "challenge.completed"),
      60_000,
    );
    const verified = new Webhook(secret).verify(delivered.body, delivered.headers) as WebhookEvent;
    expect(verified).toMatchObject({
      type: "challenge.completed",
      data: { userId: "alice", challengeId: "two_purchases", bonusPoints: 50, balanceAfter: second.balance },
    });
    expect(delivered.headers["webhook-id"]).toBe(verified.id);
    expect(() => new Webhook(`whsec_${Buffer.alloc(32, 7).toString("base64")}`).verify(delivered.body, delivered.headers)).toThrow();
    // Only what it subscribed to: no points.awarded, no event.logged.
    expect(receivedAt("/hooks/challenges").map((r) => r.event.type)).toEqual(["challenge.completed"]);

    // The page lists the delivery as succeeded, with its answer.
    await openDeliveries(card);
    await refreshUntil(card, "challenge.completed", "succeeded");
    const row = deliveryRow(card, "challenge.completed");
    expect(await row.getByTestId("delivery-attempts").textContent()).toBe("1");
    expect(await row.getByTestId("delivery-response").textContent()).toContain("HTTP 200");
    await row.getByText("Response text").click();
    await row.getByText(`received ${verified.id}`).waitFor();

    // Dismissed, the secret is gone from the page for good.
    await notice.getByRole("button", { name: "I have stored it" }).click();
    await notice.waitFor({ state: "detached" });
    expect(await page.content()).not.toContain(secret);
  });

  it("sends a test, retries it, filters by status, rotates the secret (both sign for the overlap), disables, enables and deletes after a confirmation", async () => {
    const url = `${receiverBase}/hooks/tests`;
    const created = (await expectApi<Endpoint>(201, admin, "POST", "/v1/admin/webhooks", { url, eventTypes: ["reward.adjusted"] })).body;
    const { page } = session;
    await session.signIn(admin);
    await session.goto("/dashboard/webhooks");
    const card = cardOf(created.id);
    await card.waitFor();

    // A test: delivered now, listed, signed.
    await card.getByRole("button", { name: "Send test" }).click();
    await card.getByText("Test event delivered: HTTP 200").waitFor();
    await refreshUntil(card, "webhook.test", "succeeded");
    const [test] = await deliveriesOf(created.id);
    expect(test).toMatchObject({ eventType: "webhook.test", status: "succeeded", attempts: 1, responseStatus: 200 });
    const first = receivedAt("/hooks/tests");
    expect(first.map((r) => r.headers["webhook-id"])).toEqual([test!.eventId]);
    expect(new Webhook(created.secret!).verify(first[0]!.body, first[0]!.headers)).toMatchObject({ type: "webhook.test" });

    // Retry sends the same event again (same webhook-id): one more attempt.
    await deliveryRow(card, "webhook.test")
      .getByRole("button", { name: /^Retry the webhook.test delivery/ })
      .click();
    await expect.poll(() => deliveryRow(card, "webhook.test").getByTestId("delivery-attempts").textContent()).toBe("2");
    expect(receivedAt("/hooks/tests").map((r) => r.headers["webhook-id"])).toEqual([test!.eventId, test!.eventId]);

    // Filter by status.
    await card.getByLabel("Status").selectOption("failed");
    await card.getByText("No failed deliveries yet").waitFor();
    await card.getByLabel("Status").selectOption("succeeded");
    await deliveryRow(card, "webhook.test").waitFor();

    // Rotation: the new secret once, the old one signing beside it for 24 hours.
    await card.getByRole("button", { name: "Rotate secret" }).click();
    const rotated = card.getByTestId("webhook-secret");
    await rotated.waitFor();
    expect(await rotated.textContent()).toContain("keeps signing beside it for 24 hours");
    const newSecret = await rotated.getByLabel("Signing secret").inputValue();
    expect(newSecret).toMatch(/^whsec_/);
    expect(newSecret).not.toBe(created.secret);
    await card.getByText(/Previous secret/).waitFor();
    await card.getByRole("button", { name: "Send test" }).click();
    await expect.poll(() => receivedAt("/hooks/tests").length).toBe(3);
    const afterRotation = receivedAt("/hooks/tests")[2]!;
    expect(new Webhook(newSecret).verify(afterRotation.body, afterRotation.headers)).toMatchObject({ type: "webhook.test" });
    expect(new Webhook(created.secret!).verify(afterRotation.body, afterRotation.headers)).toMatchObject({ type: "webhook.test" });
    await rotated.getByRole("button", { name: "I have stored it" }).click();
    await rotated.waitFor({ state: "detached" });

    // Disable and enable.
    await card.getByRole("button", { name: "Disable" }).click();
    await expect.poll(() => card.getByTestId("endpoint-status").textContent()).toContain("disabled by an admin");
    expect(await card.getByRole("button", { name: "Send test" }).isDisabled()).toBe(true);
    expect((await listEndpoints()).find((e) => e.id === created.id)).toMatchObject({ enabled: false, disabledReason: "disabled by an admin" });
    await card.getByRole("button", { name: "Enable" }).click();
    await expect.poll(() => card.getByTestId("endpoint-status").textContent()).toBe("enabled");

    // Deleting asks first; Escape keeps it and puts the focus back.
    const remove = card.getByRole("button", { name: "Delete", exact: true });
    await remove.click();
    const confirm = card.getByRole("group", { name: `Confirm deleting ${url}` });
    await confirm.waitFor();
    await page.keyboard.press("Escape");
    await confirm.waitFor({ state: "detached" });
    await expect.poll(() => remove.evaluate((button) => button === document.activeElement)).toBe(true);
    expect((await listEndpoints()).map((e) => e.id)).toContain(created.id);
    await page.keyboard.press("Enter");
    await confirm.getByRole("button", { name: "Yes, delete" }).click();
    await card.waitFor({ state: "detached" });
    expect((await listEndpoints()).map((e) => e.id)).not.toContain(created.id);
  });

  it("pages the deliveries by cursor, and lays out on a desktop and at 375 px without sideways scrolling", async () => {
    const url = `${receiverBase}/hooks/a-rather-long-path-for-a-receiver-that-names-its-tenant-and-its-purpose/loyalty`;
    const created = (
      await expectApi<Endpoint>(201, admin, "POST", "/v1/admin/webhooks", {
        url,
        eventTypes: ["points.awarded", "limit.reached", "streak.extended", "reward.adjusted"],
        description: "A receiver with a long description that wraps on a phone rather than widening the page",
      })
    ).body;
    // 21 deliveries: one more than a page.
    for (let i = 0; i < 21; i++) await expectApi(200, admin, "POST", `/v1/admin/webhooks/${created.id}/test`);
    const { page } = session;
    await session.signIn(admin);
    const card = cardOf(created.id);
    for (const [width, height] of [
      [1280, 900],
      [375, 812],
    ] as const) {
      await page.setViewportSize({ width, height });
      await session.goto("/dashboard/webhooks");
      await openDeliveries(card);
      await expect.poll(() => card.locator("tr[data-delivery-id]").count()).toBe(20);
      await card.locator("tr[data-delivery-id]").first().getByText("Response text").click();
      await page.getByRole("button", { name: "New endpoint" }).click();
      await page.getByRole("form", { name: "New webhook endpoint" }).waitFor();
      await page.waitForLoadState("networkidle");
      expect(await horizontalOverflow(page), `webhooks at ${width} px`).toBe(0);
    }

    // The next page by the API's cursor, and back.
    await card.getByRole("button", { name: "Older →" }).click();
    await expect.poll(() => card.getByTestId("deliveries-page").textContent()).toBe("Page 2");
    await expect.poll(() => card.locator("tr[data-delivery-id]").count()).toBe(1);
    expect(await card.getByRole("button", { name: "Older →" }).isDisabled()).toBe(true);
    await card.getByRole("button", { name: "← Newer" }).click();
    await expect.poll(() => card.locator("tr[data-delivery-id]").count()).toBe(20);
    expect(await card.getByTestId("deliveries-page").textContent()).toBe("Page 1");
  });
});
