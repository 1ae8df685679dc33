// Prepared datasets for the read scenarios, kept on disk and reused while the migrations are unchanged.
import { client, inParallel, MIX, setupProject, userIds } from "./workload.mjs";

const DAY_MS = 86_400_000;

/**
 * `size` events in `project` (3,000 users and a "whale" with about 15 % of them, so one account can be paged
 * 5,000 pages deep), spread over the last 90 days, logged through POST /v1/events/batch: the users' objects
 * decide them and the real queue consumer writes them to D1. Each call holds 1,000 events of 50 users.
 */
export async function seedEventDataset({ base, token, db, project, size, have }) {
  const call = client(base, token);
  const users = userIds("d", 3000);
  if (have === 0) await setupProject(call, [...users, "whale"]);
  const calls = Array.from({ length: Math.ceil((size - have) / 1000) }, (_, i) => i);
  const now = Date.now();
  let sent = have;
  await inParallel(calls, 6, async (i) => {
    const block = users.slice((i * 50) % users.length, ((i * 50) % users.length) + 50);
    const events = Array.from({ length: 1000 }, (_, k) => {
      const entry = MIX[k % MIX.length];
      const userId = k % 7 === 0 ? "whale" : block[k % block.length];
      const timestamp = new Date(now - 60_000 - Math.floor(Math.random() * 89 * DAY_MS)).toISOString();
      return { eventId: entry.eventId, userId, metadata: entry.metadata, timestamp };
    });
    await call("POST", "/v1/events/batch", { events });
    sent += 1000;
    if (sent % 100_000 === 0) console.log(`  ${project}: ${sent} events sent`);
  });
  const target = have + calls.length * 1000;
  for (;;) {
    const { n } = await db.prepare("SELECT COUNT(*) AS n FROM event_log WHERE program_id = (SELECT id FROM projects WHERE key = ?)").bind(project).first();
    if (n >= target) return;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * `participants` users on an all-time points leaderboard (and the first `streakParticipants` of them in a
 * streak), each with one logged event. Registering and logging a million users through the API would take
 * longer than a benchmark may, so the queue gets the messages the users' objects send for such a log (the
 * event with its stats flags, the user's score and streak state with its sequence number), bundled as objects
 * bundle them, and the real consumer writes them.
 */
export async function seedParticipants({ base, token, db, queue, project, participants, streakParticipants, log }) {
  const call = client(base, token);
  await call("PUT", "/v1/admin/events/daily_login", { title: "Daily login", reward: { default: 5 } });
  await call("PUT", "/v1/admin/streaks/login_streak", { title: "Login streak", eventIds: ["daily_login"], period: "day", goal: 7 });
  await call("PUT", "/v1/admin/leaderboards/weekly_points", { title: "All-time points", metric: "points", period: "all" });
  const row = await db.prepare("SELECT COALESCE(SUM(participants), 0) AS n FROM leaderboard_periods WHERE project_key = ?").bind(project).first();
  if (row.n >= participants) {
    log(`dataset ${project}: ${row.n} participants (reused)`);
    return;
  }
  log(`dataset ${project}: queueing ${participants} participants`);
  const now = Date.now();
  const message = (i) => {
    const score = Math.floor(100_000 * Math.random() ** 2);
    const iso = new Date(now - Math.floor(Math.random() * 30) * DAY_MS).toISOString();
    return {
      eventUid: `${project}-${i}`,
      projectKey: project,
      programId: 0,
      userId: `p${i}`,
      accountId: i + 1,
      eventId: "daily_login",
      definitionVersion: 1,
      eventType: "STANDARD",
      loyaltyEventType: null,
      metadata: {},
      occurredAt: iso,
      recordedAt: iso,
      points: score,
      balanceBefore: 0,
      balanceAfter: score,
      userGroupId: "default",
      conditionReached: true,
      limitReached: false,
      reward: { rate: score, value: null, uncappedPoints: score, maximumReward: null, reasons: [] },
      idempotencyKey: null,
      ruleId: null,
      rewardType: "LOYALTY_POINTS",
      rewardAmount: score,
      rewardCurrency: null,
      customerMessage: null,
      // The user's first event: first of its day and month, no earlier active day, a new streak participant.
      activity: { firstOfDay: true, firstOfMonth: true, firstOfEventDay: true, firstOfEventMonth: true, previousLastDay: null, previousEventLastDay: null },
      updates: {
        seq: 1,
        streaks:
          i < streakParticipants
            ? [{ streakId: "login_streak", current: 1 + (i % 30), longest: 1 + (i % 45), aliveUntil: now + ((i % 3) - 1) * DAY_MS, previous: null }]
            : [],
        standings: [{ leaderboardId: "weekly_points", calendar: "all|UTC", period: 0, score, reachedAt: now + i }],
      },
    };
  };
  const PER_BUNDLE = 100;
  const bundles = Array.from({ length: Math.ceil(participants / PER_BUNDLE) }, (_, b) => b);
  await inParallel(bundles, 8, async (b) => {
    const items = Array.from({ length: Math.min(PER_BUNDLE, participants - b * PER_BUNDLE) }, (_, k) => message(b * PER_BUNDLE + k));
    await queue.send({ kind: "bundle", items }, { contentType: "json" });
  });
  for (;;) {
    const done = await db.prepare("SELECT COALESCE(SUM(participants), 0) AS n FROM leaderboard_periods WHERE project_key = ?").bind(project).first();
    if (done.n >= participants) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
}
