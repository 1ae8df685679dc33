import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorker, type RunningWorker } from "./server";

/**
 * The README's "Quickstart with curl", run as a newcomer runs it: its sh block(s), read from README.md at test
 * time, command by command in one bash (so `B`, `ALICE`, `ID`, `KEY` carry over), against a `wrangler dev` of
 * this file's own (fresh state: the other files' data on the shared server must not move the numbers), seeded
 * as `npm run dev` seeds it and with the tokens `npm run dev` prints. Every answer the README's comments state
 * is written below as an explicit value: changing the README's story or the API's behaviour fails this test.
 *
 * Day and week: the story holds on any day but needs its whole run within one UTC day and one Berlin day, so
 * the test waits past a midnight that is minutes away; on a Monday bob's backfilled login of yesterday counts
 * for last week's board (the README says so), and the test expects it.
 */

const README = new URL("../../README.md", import.meta.url);
const DEV_SCRIPT = new URL("../../scripts/dev.mjs", import.meta.url);
const README_BASE = "B=http://127.0.0.1:8787";

type SignDevToken = (claims: { sub: string; project: string; role: "admin" | "user"; ttl: string }, secret: string) => Promise<string>;
type SeedDemo = (base: string, adminToken: string) => Promise<boolean>;
// Through a computed URL: the scripts are plain .mjs without type declarations.
const importScript = <T>(path: string): Promise<T> => import(new URL(path, import.meta.url).href) as Promise<T>;

/** One top-level command of the block, and the comments of its paragraph (blank-line separated), joined. */
type Step = { code: string; says: string };

/** The sh/bash code blocks under "## Quickstart with curl", in order, joined. */
function quickstartBlock(markdown: string): string {
  const start = markdown.indexOf("\n## Quickstart with curl\n");
  expect(start, 'README.md has a "## Quickstart with curl" section').toBeGreaterThanOrEqual(0);
  const rest = markdown.slice(start + 1);
  const end = rest.indexOf("\n## ", 1);
  const section = end < 0 ? rest : rest.slice(0, end);
  const blocks = [...section.matchAll(/^```(?:sh|bash)\n([\s\S]*?)^```$/gm)].map((m) => m[1] ?? "");
  expect(blocks.length, "the quickstart has a sh block").toBeGreaterThan(0);
  return blocks.join("\n");
}

const bashAccepts = (code: string) => spawnSync("bash", ["-n"], { input: code, encoding: "utf8" }).status === 0;

/** Splits the block into top-level commands as bash reads them (continuations, multi-line quotes, loops). */
function splitSteps(block: string): Step[] {
  const steps: Step[] = [];
  for (const paragraph of block.split(/\n\s*\n/)) {
    const comments: string[] = [];
    const codes: string[] = [];
    let pending: string[] = [];
    for (const line of paragraph.split("\n")) {
      if (pending.length === 0 && /^\s*#/.test(line)) {
        comments.push(line.replace(/^\s*#\s?/, ""));
        continue;
      }
      if (pending.length === 0 && line.trim() === "") continue;
      pending.push(line);
      const trailing = / #\s(.*)$/.exec(line);
      if (trailing?.[1] !== undefined) comments.push(trailing[1]);
      const code = pending.join("\n");
      if (!line.endsWith("\\") && bashAccepts(code)) {
        codes.push(code);
        pending = [];
      }
    }
    expect(pending, "every command of the quickstart is complete").toEqual([]);
    const says = comments.join(" ").replace(/\s+/g, " ");
    for (const code of codes) steps.push({ code, says });
  }
  return steps;
}

/** One bash for the whole block: each step is sourced (variables carry over) and its output read up to a marker. */
class Shell {
  private readonly bash: ChildProcessWithoutNullStreams;
  private readonly dir = mkdtempSync(join(tmpdir(), "quickstart-"));
  private stdout = "";
  private stderr = "";
  private runs = 0;

  constructor(env: Record<string, string>) {
    this.bash = spawn("bash", ["--noprofile", "--norc"], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: this.dir, LC_ALL: "C", ...env } });
    this.bash.stdout.setEncoding("utf8").on("data", (chunk: string) => (this.stdout += chunk));
    this.bash.stderr.setEncoding("utf8").on("data", (chunk: string) => (this.stderr += chunk));
  }

  async run(code: string, timeoutMs = 60_000): Promise<string> {
    const n = ++this.runs;
    const file = join(this.dir, `step-${n}.sh`);
    writeFileSync(file, `${code}\n`);
    const marker = `\n@@quickstart-step-${n}@@\n`;
    this.stderr = "";
    this.bash.stdin.write(`source '${file}' </dev/null; printf '\\n@@quickstart-step-%s@@\\n' ${n}\n`);
    const deadline = Date.now() + timeoutMs;
    while (!this.stdout.includes(marker)) {
      if (this.bash.exitCode !== null) throw new Error(`bash exited (${this.bash.exitCode}): ${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`no answer within ${timeoutMs} ms to:\n${code}\nstderr: ${this.stderr}`);
      await sleep(50);
    }
    const at = this.stdout.indexOf(marker);
    const output = this.stdout.slice(0, at);
    this.stdout = this.stdout.slice(at + marker.length);
    if (this.stderr.trim() !== "") throw new Error(`stderr of:\n${code}\n${this.stderr}`);
    return output;
  }

  close() {
    this.bash.stdin.end();
    this.bash.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const clock = (timeZone: string, at = new Date()) => {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-GB", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      weekday: "short",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
    })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  return {
    day: `${parts.year}-${parts.month}-${parts.day}`,
    weekday: parts.weekday,
    secondsToMidnight: 86_400 - (Number(parts.hour) * 3600 + Number(parts.minute) * 60 + Number(parts.second)),
  };
};

/** Waits past a UTC or Berlin midnight that is less than `margin` seconds away: the whole run then lies within one day of each. */
async function awayFromMidnight(marginSeconds: number) {
  for (;;) {
    const soonest = Math.min(clock("UTC").secondsToMidnight, clock("Europe/Berlin").secondsToMidnight);
    if (soonest >= marginSeconds) return;
    await sleep((soonest + 5) * 1000);
  }
}

const json = (output: string): unknown => JSON.parse(output.trim());
const jsonLines = (output: string): unknown[] =>
  output
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l));
type HttpAnswer = { statusLine: string; headers: Record<string, string>; body: string };
/** `curl -si` output: one or more responses, each status line, headers, a blank line and the body. */
function httpAnswers(output: string): HttpAnswer[] {
  return output
    .split(/(?=^HTTP\/[\d.]+ \d{3})/m)
    .filter((part) => part.trim() !== "")
    .map((part) => {
      const split = part.indexOf("\r\n\r\n");
      const head = part.slice(0, split).split("\r\n");
      const headers = Object.fromEntries(head.slice(1).map((h) => [h.slice(0, h.indexOf(":")).toLowerCase(), h.slice(h.indexOf(":") + 1).trim()]));
      return { statusLine: head[0] ?? "", headers, body: part.slice(split + 4) };
    });
}
const jwtClaims = (token: string): unknown => JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8"));

type Context = { monday: boolean; get: (path: string) => Promise<unknown> };
type Expectation = {
  /** A piece of the step's command that identifies it. */
  command: string;
  /** What the README's comments state about it, word for word (the check below holds the same values). */
  says: string[];
  check: (output: string, context: Context) => void | Promise<void>;
  /** Read-only and fed by the queue (boards, stats, analytics): asked again until it holds, within 30 s. */
  eventually?: true;
};

const purchase = (userId: string, points: number, extra: object = {}) => ({
  statusCode: 200,
  data: { userId, eventId: "purchase_completed", points, ...extra },
});
const challenge = (progress: number, completedNow: boolean) => ({
  challenges: [{ challengeId: "three_purchases_week", progress, target: 3, completed: progress >= 3, completedNow }],
});

/** The quickstart, step by step, with every answer its comments state. */
const EXPECTED: Expectation[] = [
  { command: README_BASE, says: [], check: (out) => expect(out).toBe("") },
  {
    command: "-X PUT $B/v1/admin/events/review_written",
    says: ["HTTP/1.1 201 Created"],
    check: (out) => {
      const [answer, ...more] = httpAnswers(out);
      expect(more).toEqual([]);
      expect(answer?.statusLine).toBe("HTTP/1.1 201 Created");
      expect(json(answer?.body ?? "")).toMatchObject({ eventId: "review_written", status: "ACTIVE", limit: 3, limitPeriod: "week" });
    },
  },
  {
    command: "$B/v3/event/review_written",
    says: ["/v0, /v1, /v2 and /v3 are the same API"],
    check: async (out, { get }) => {
      const v3 = json(out);
      expect(v3).toMatchObject({ eventId: "review_written", reward: { default: 10, gold: 20 }, limit: 3, limitPeriod: "week" });
      for (const version of ["v0", "v1", "v2"]) expect(await get(`/${version}/event/review_written`)).toEqual(v3);
    },
  },
  {
    command: "$B/v1/admin/users/erin",
    says: ["its numeric accountId is 5"],
    check: (out) => expect(json(out)).toMatchObject({ userId: "erin", accountId: 5, usergroups: ["gold"], balance: 0 }),
  },
  {
    command: "-H 'Idempotency-Key: order-1001'",
    says: ['gives 50 points ("balance":50)', "the second answer is the first one again, with the header Idempotent-Replayed: true, and no second 50 points"],
    check: (out) => {
      const [first, second, ...more] = httpAnswers(out);
      expect(more).toEqual([]);
      expect(first?.statusLine).toBe("HTTP/1.1 200 OK");
      expect(first?.headers["idempotent-replayed"]).toBeUndefined();
      expect(json(first?.body ?? "")).toMatchObject(purchase("alice", 50, { balance: 50, ...challenge(1, false) }));
      expect(second?.statusLine).toBe("HTTP/1.1 200 OK");
      expect(second?.headers["idempotent-replayed"]).toBe("true");
      expect(json(second?.body ?? "")).toEqual(json(first?.body ?? ""));
    },
  },
  {
    command: '{"eventId":"daily_login","userId":"alice"}',
    says: ['the first call awards 5 points ("balance":55)', 'the second answers 200 "Event Limit erreicht" with points 0 and limitReached true'],
    check: (out) =>
      expect(jsonLines(out)).toMatchObject([
        {
          statusCode: 200,
          message: "Event erfolgreich geloggt",
          data: { userId: "alice", eventId: "daily_login", points: 5, limitReached: false, balance: 55 },
        },
        { statusCode: 200, message: "Event Limit erreicht", data: { userId: "alice", eventId: "daily_login", points: 0, limitReached: true, balance: 55 } },
      ]),
  },
  {
    command: "$B/v1/events/batch",
    says: ["one result per item, in order: bob's daily login (5 points)", "carol's first purchase this week (silver: 1.5 points per EUR, so 20 EUR give 30)"],
    check: (out) =>
      expect(json(out)).toMatchObject({
        results: [
          { statusCode: 200, data: { userId: "bob", eventId: "daily_login", points: 5 } },
          purchase("carol", 30, { balance: 30, ...challenge(1, false) }),
        ],
      }),
  },
  {
    command: "date -d 'yesterday 00:30'",
    says: ["Backfill his login of yesterday (admin only)", 'The answer\'s streaks show "current":2'],
    check: (out) =>
      expect(json(out)).toMatchObject({
        statusCode: 200,
        data: {
          userId: "bob",
          eventId: "daily_login",
          points: 5,
          limitReached: false,
          streaks: [{ streakId: "daily_login_streak", current: 2, extended: true }],
        },
      }),
  },
  {
    command: "$B/v1/users/bob",
    says: ["and so does his profile"],
    check: (out) => expect(json(out)).toMatchObject({ userId: "bob", streaks: [{ streakId: "daily_login_streak", current: 2, alive: true }] }),
  },
  {
    command: '"userId":"carol","metadata":{"amount":10',
    says: [
      "two more for 10 EUR (15 points each) complete it",
      'the second answer says "progress":3, "completedNow":true and "balance":160 (30 + 15 + 15 + 100)',
    ],
    check: (out) =>
      expect(jsonLines(out)).toMatchObject([
        purchase("carol", 15, { balance: 45, ...challenge(2, false) }),
        purchase("carol", 15, { balance: 160, ...challenge(3, true) }),
      ]),
  },
  {
    command: "for u in bob dave",
    says: ["bob and dave (gold: 2 points per EUR) earn 40 each for 20 EUR"],
    check: (out) => expect(jsonLines(out)).toMatchObject([purchase("bob", 40), purchase("dave", 40, { balance: 40 })]),
  },
  {
    command: '"userId":"alice","metadata":{"amount":20',
    says: ["alice 20"],
    check: (out) => expect(json(out)).toMatchObject(purchase("alice", 20, { balance: 75 })),
  },
  { command: "sleep 3", says: [], check: (out) => expect(out).toBe("") },
  {
    command: "$B/v1/leaderboards/weekly_points?limit=10",
    says: ["The board then ranks carol 160, alice 75, bob 50, dave 40 (on a Monday bob has 45: his login of yesterday counts for last week's board)"],
    eventually: true,
    check: (out, { monday }) =>
      expect(json(out)).toMatchObject({
        leaderboardId: "weekly_points",
        totalParticipants: 4,
        entries: [
          { rank: 1, userId: "carol", score: 160 },
          { rank: 2, userId: "alice", score: 75 },
          { rank: 3, userId: "bob", score: monday ? 45 : 50 },
          { rank: 4, userId: "dave", score: 40 },
        ],
      }),
  },
  {
    command: "$B/v1/leaderboards/weekly_points/users/alice",
    says: ['alice\'s own entry says "rank":2'],
    eventually: true,
    check: (out) => expect(json(out)).toMatchObject({ entry: { rank: 2, userId: "alice", score: 75, listed: true } }),
  },
  {
    command: "$B/v1/users/carol",
    says: ["challenges: progress 3 of 3, completed"],
    check: (out) =>
      expect(json(out)).toMatchObject({
        userId: "carol",
        balance: 160,
        challenges: [{ challengeId: "three_purchases_week", progress: 3, target: 3, completed: true }],
      }),
  },
  { command: "ALICE=$(", says: [], check: (out) => expect(out).toBe("") },
  {
    command: "sort=timestamp,desc",
    says: ["alice's events in the loyalty-events shape, newest first, with Link headers and X-Total-Count: 4", "the replayed call is not an event of its own"],
    check: (out) => {
      const [answer, ...more] = httpAnswers(out);
      expect(more).toEqual([]);
      expect(answer?.statusLine).toBe("HTTP/1.1 200 OK");
      expect(answer?.headers["x-total-count"]).toBe("4");
      expect(answer?.headers.link).toMatch(/rel="first"/);
      const events = json(answer?.body ?? "") as { timestamp: string }[];
      expect(events.map((e) => e.timestamp)).toEqual(
        events
          .map((e) => e.timestamp)
          .sort()
          .reverse(),
      );
      expect(events).toMatchObject([
        { loyaltyAccountId: 1, eventType: "TRANSACTION_ASSESSMENT", eventDetails: { amount: 20, currency: "EUR" }, reward: { rewardAmount: 20 } },
        { reward: null },
        { reward: { rewardAmount: 5 } },
        { eventType: "TRANSACTION_ASSESSMENT", eventDetails: { amount: 49.99, currency: "EUR" }, reward: { rewardAmount: 50 } },
      ]);
    },
  },
  { command: "ID=$(", says: [], check: (out) => expect(out).toBe("") },
  {
    command: "$B/v1/loyalty-events/$ID/adjustments",
    says: ['the answer shows "rewardAmount":0 with "previousRewardAmount":20'],
    check: (out) =>
      expect(json(out)).toMatchObject({
        eventType: "TRANSACTION_ASSESSMENT",
        eventDetails: { amount: 20 },
        reward: { rewardAmount: 0, previousRewardAmount: 20 },
      }),
  },
  {
    command: "$B/v1/users/alice",
    says: ["her balance drops from 75 to 55 within the same call"],
    check: (out) => expect(json(out)).toMatchObject({ userId: "alice", balance: 55 }),
  },
  {
    command: "$B/v1/admin/users/alice",
    says: ['alice\'s "balance":55'],
    check: (out) => expect(json(out)).toMatchObject({ userId: "alice", accountId: 1, balance: 55 }),
  },
  {
    command: "stats/event?period=7d",
    says: ["the last 7 days count challenge:three_purchases_week once, for 100 points"],
    eventually: true,
    check: (out) =>
      expect(json(out)).toMatchObject({ period: "7d", data: { eventBreakdown: { "challenge:three_purchases_week": { count: 1, users: 1, points: 100 } } } }),
  },
  {
    command: "eventId=purchase_completed&period=30d",
    says: ['purchase_completed has "totalCount":7 over 30 days, by "uniqueUsers":4'],
    eventually: true,
    check: (out) => expect(json(out)).toMatchObject({ period: "30d", eventId: "purchase_completed", data: { totalCount: 7, uniqueUsers: 4 } }),
  },
  {
    command: "analytics/streak?streakId=daily_login_streak",
    says: ['daily_login_streak has "totalParticipants":2 (alice and bob) and "longestUserStreak":2'],
    eventually: true,
    check: (out) => expect(json(out)).toMatchObject({ streakId: "daily_login_streak", totalParticipants: 2, longestUserStreak: 2 }),
  },
  { command: "KEY=$(", says: ["A server API key (shown once)"], check: (out) => expect(out).toBe("") },
  {
    command: '{"eventId":"card_displayed","userId":"bob"}',
    says: ["card_displayed (API key only) gives bob 1 point"],
    check: (out) => expect(json(out)).toMatchObject({ statusCode: 200, data: { userId: "bob", eventId: "card_displayed", points: 1 } }),
  },
  {
    command: "$B/v1/auth/tokens",
    says: ["the backend gets bob a user token for its app, valid for an hour"],
    check: (out) => {
      const { token, expiresAt } = json(out) as { token: string; expiresAt: string };
      const claims = jwtClaims(token) as { iat: number; exp: number };
      expect(claims).toMatchObject({ sub: "bob", role: "user", projectId: "demo" });
      expect(claims.exp - claims.iat).toBe(3600);
      expect(Date.parse(expiresAt)).toBe(claims.exp * 1000);
    },
  },
];

describe("the README's quickstart with curl", () => {
  let worker: RunningWorker | undefined;
  let tokens: { ADMIN_TOKEN: string; USER_TOKEN: string };

  beforeAll(async () => {
    const { signDevToken } = await importScript<{ signDevToken: SignDevToken }>("../../scripts/token.mjs");
    const { seedDemo } = await importScript<{ seedDemo: SeedDemo }>("../../scripts/seed.mjs");
    // What `npm run dev` does on a fresh state: the same tokens (scripts/dev.mjs), the same seed.
    worker = await startWorker({ demoToken: (secret) => signDevToken({ sub: "demo-admin", project: "demo", role: "admin", ttl: "7d" }, secret) });
    tokens = {
      ADMIN_TOKEN: worker.demoToken,
      USER_TOKEN: await signDevToken({ sub: "alice", project: "demo", role: "user", ttl: "7d" }, worker.jwtSecret),
    };
    expect(await seedDemo(worker.baseUrl, tokens.ADMIN_TOKEN)).toBe(true);
  }, 180_000);
  afterAll(async () => {
    await worker?.stop();
  }, 30_000);

  it("uses the tokens, seed and port `npm run dev` prints", () => {
    const dev = readFileSync(DEV_SCRIPT, "utf8");
    expect(dev).toMatch(/signDevToken\(\{ sub: "demo-admin", project: "demo", role: "admin", ttl: "7d" \}/);
    expect(dev).toMatch(/signDevToken\(\{ sub: "alice", project: "demo", role: "user", ttl: "7d" \}/);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the dev script's own template text
    expect(dev).toContain("export ADMIN_TOKEN=${adminToken}");
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the dev script's own template text
    expect(dev).toContain("export USER_TOKEN=${userToken}");
    expect(dev).toContain("await seedDemo(base, adminToken)");
    expect(dev).toMatch(/port: \{ type: "string", default: "8787" \}/);
  });

  it("answers every call as its comments say, top to bottom", async () => {
    const block = quickstartBlock(readFileSync(README, "utf8"));
    const steps = splitSteps(block);
    expect(
      steps.map((s) => s.code).filter((c) => c === README_BASE),
      `the block sets ${README_BASE}`,
    ).toHaveLength(1);
    expect(steps.length, "one expectation per command of the quickstart").toBe(EXPECTED.length);
    steps.forEach((step, i) => {
      const expected = EXPECTED[i];
      expect(step.code, `step ${i + 1}`).toContain(expected?.command);
      for (const said of expected?.says ?? []) expect(step.says, `step ${i + 1} (${expected?.command}) says`).toContain(said);
    });

    const base = worker?.baseUrl ?? "";
    const context: Context = {
      monday: false,
      get: async (path) => (await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${tokens.ADMIN_TOKEN}` } })).json(),
    };
    await awayFromMidnight(240);
    const start = { utc: clock("UTC").day, berlin: clock("Europe/Berlin") };
    context.monday = start.berlin.weekday === "Mon";

    const shell = new Shell(tokens);
    try {
      for (const [i, step] of steps.entries()) {
        const expected = EXPECTED[i];
        if (expected === undefined) throw new Error(`no expectation for step ${i + 1}`);
        const code = step.code === README_BASE ? `B=${base}` : step.code;
        const deadline = Date.now() + 30_000;
        for (;;) {
          const output = await shell.run(code);
          try {
            await expected.check(output, context);
            break;
          } catch (error) {
            if (!expected.eventually || Date.now() > deadline) {
              throw new Error(`step ${i + 1} of the quickstart:\n${step.code}\nanswered:\n${output}\n${(error as Error).message}`, { cause: error });
            }
            await sleep(500);
          }
        }
      }
    } finally {
      shell.close();
    }
    expect({ utc: clock("UTC").day, berlin: clock("Europe/Berlin").day }, "the run stayed within one UTC and one Berlin day").toEqual({
      utc: start.utc,
      berlin: start.berlin.day,
    });
  }, 600_000);
});
