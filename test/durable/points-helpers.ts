import { runInDurableObject } from "cloudflare:test";
import { expect } from "vitest";
import type { VersionedDefinition } from "../../src/domain/definition";
import type { LogCommand } from "../../src/domain/log-command";
import { NO_POINTS_POLICY, type PointsChangeMessage, type PointsPolicy, type TierLadder } from "../../src/domain/points-lifecycle";
import { parseQueueMessage, type QueueMessage } from "../../src/domain/queue-message";
import type { UserStateRpc } from "../../src/durable/stub";
import type { UserState } from "../../src/durable/user-state";
import { newProject, replaceObjectQueue, userObject } from "../helpers";

/** Helpers for the points lifecycle's object tests: a member with its own clock and a queue that records. */

export const at = (iso: string): number => Date.parse(iso);

/** A STANDARD definition awarding `reward` per usergroup. */
export const standardDefinition = (eventId: string, reward: Record<string, number>): VersionedDefinition => ({
  eventId,
  title: eventId,
  description: "",
  status: "ACTIVE",
  type: "STANDARD",
  reward,
  limitPeriod: "lifetime",
  metadataFields: [],
  requiresApiKey: false,
  version: 1,
  ruleId: null,
});

/** A log of a STANDARD event worth `points` to everyone (unless `definition` says otherwise). */
export function earnCommand(
  points: number,
  options: { policy?: PointsPolicy; now: number; definition?: VersionedDefinition; metadata?: Record<string, unknown>; fromUserToken?: boolean },
): LogCommand {
  return {
    kind: "log",
    definition: options.definition ?? standardDefinition("earn", { default: points }),
    metadata: options.metadata ?? {},
    occurredAt: new Date(options.now).toISOString(),
    streaks: [],
    challenges: [],
    leaderboards: [],
    fromUserToken: options.fromUserToken ?? false,
    policy: options.policy,
    idempotencyKey: null,
    requestHash: null,
  };
}

export const policyOf = (fields: Partial<PointsPolicy> & { version: number }): PointsPolicy => ({ ...NO_POINTS_POLICY, ...fields });

export const ladder = (window: TierLadder["window"], downgrade: TierLadder["downgrade"], levels: Array<[string, number]>): TierLadder => ({
  basis: "points_earned",
  window,
  downgrade,
  levels: levels.map(([tierId, minPoints]) => ({ tierId, title: tierId.toUpperCase(), minPoints })),
});

/** A registered member in a fresh project, whose object runs at `clock.now` and sends to a recording queue. */
export async function newMember(options: { usergroups?: string[]; now: number }) {
  const projectKey = newProject();
  const userId = `m-${crypto.randomUUID().slice(0, 8)}`;
  const stub = userObject(projectKey, userId);
  await stub.register({ projectKey, programId: 1, userId, accountId: 1, usergroups: options.usergroups ?? [], registrationVersion: 1 });
  const clock = { now: options.now };
  await setClock(stub, () => clock.now);
  const sent: QueueMessage[] = [];
  await replaceObjectQueue(stub, {
    send: async (body: unknown) => void sent.push(...(parseQueueMessage(body) ?? [])),
    sendBatch: async () => undefined,
  });
  const changes = () => sent.filter((message): message is PointsChangeMessage => "kind" in message && message.kind === "points_change");
  const log = async (command: LogCommand) => (await stub.logEvents(projectKey, userId, [command]))[0]!;
  // `stub` for runInDurableObject; `object` for calls, typed like the Worker's (src/durable/stub.ts).
  return { projectKey, userId, stub, object: stub as unknown as UserStateRpc, clock, sent, changes, log };
}

/** Runs the object at the time `now()` answers (its clock; see UserState.clock). */
export const setClock = (stub: DurableObjectStub<UserState>, now: () => number) =>
  runInDurableObject(stub, (instance) => {
    (instance as unknown as { clock: () => number }).clock = now;
  });

/** Fires the object's alarm as the runtime would at its time (the object reads the time from its clock). */
export const fireAlarm = (stub: DurableObjectStub<UserState>) => runInDurableObject(stub, (instance) => instance.alarm());

export const pendingAlarm = (stub: DurableObjectStub<UserState>) => runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());

export type Lot = { id: number; points: number; remaining: number; expires_at: number | null; source: string };

/** The object's points state as stored: balance, lots, history sums by type and the last running balance. */
export const pointsState = (stub: DurableObjectStub<UserState>) =>
  runInDurableObject(stub, (_instance, state) => {
    const sql = state.storage.sql;
    const balance = sql.exec<{ balance: number }>("SELECT balance FROM profile").one().balance;
    const lots = sql.exec<Lot>("SELECT id, points, remaining, expires_at, source FROM point_lots ORDER BY id").toArray();
    const sums = Object.fromEntries(
      sql
        .exec<{ type: string; points: number }>("SELECT type, SUM(points) AS points FROM points_history GROUP BY type")
        .toArray()
        .map((row) => [row.type, row.points]),
    ) as Record<string, number>;
    const last = sql.exec<{ balance_after: number }>("SELECT balance_after FROM points_history ORDER BY seq DESC LIMIT 1").toArray()[0]?.balance_after ?? 0;
    const steps = sql.exec<{ points: number; balance_after: number }>("SELECT points, balance_after FROM points_history ORDER BY seq").toArray();
    const tier = sql.exec<{ tier_id: string | null; review_at: number | null }>("SELECT tier_id, review_at FROM tier_state").one();
    return { balance, lots, sums, last, steps, tier };
  });

/**
 * The lifecycle's invariants: earned − redeemed + reversed − expired ± adjusted = balance; the history's last
 * running balance is the balance and each entry's balance follows from the one before; the lots' remainders
 * add up to the balance when positive, else 0.
 */
export async function expectInvariants(stub: DurableObjectStub<UserState>) {
  const state = await pointsState(stub);
  const s = (type: string) => state.sums[type] ?? 0;
  expect(s("earn") + s("redeem") + s("reverse") + s("expire") + s("adjust")).toBe(state.balance);
  expect(s("tier")).toBe(0);
  expect(state.last).toBe(state.balance);
  let running = 0;
  const broken = state.steps.filter((step) => {
    running += step.points;
    return running !== step.balance_after;
  });
  expect(broken).toEqual([]);
  expect(state.lots.reduce((sum, lot) => sum + lot.remaining, 0)).toBe(Math.max(state.balance, 0));
  expect(state.lots.filter((lot) => lot.remaining < 0 || lot.remaining > lot.points)).toEqual([]);
  return state;
}
