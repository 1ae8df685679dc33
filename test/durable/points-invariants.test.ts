import { runInDurableObject } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { PointsExpiry, PointsPolicy, TierLadder } from "../../src/domain/points-lifecycle";
import { at, earnCommand, expectInvariants, fireAlarm, ladder, newMember, policyOf } from "./points-helpers";

const DAY = 86_400_000;

type Step =
  | { op: "earn"; points: number }
  | { op: "adjust"; pick: number; newAmount: number; allowNegative: boolean }
  | { op: "redeem"; points: number; replay: boolean }
  | { op: "reverse"; pick: number }
  | { op: "advance"; ms: number; alarm: boolean }
  | { op: "policy"; expiry: PointsExpiry; timezone: string; tiers: TierLadder | null };

const expiries = fc.oneof(
  fc.constant<PointsExpiry>({ mode: "none" }),
  fc.integer({ min: 1, max: 30 }).map((days): PointsExpiry => ({ mode: "after_days", days })),
  fc.integer({ min: 0, max: 1 }).map((years): PointsExpiry => ({ mode: "end_of_year_after", years })),
);
const ladders = fc.option(
  fc
    .tuple(
      fc.constantFrom<TierLadder["window"][]>("lifetime", "calendar_year", "rolling_12_months"),
      fc.constantFrom<TierLadder["downgrade"][]>("never", "end_of_window"),
      fc.integer({ min: 1, max: 300 }),
    )
    .map(([window, downgrade, step]) =>
      ladder(window, downgrade, [
        ["silver", step],
        ["gold", step * 3],
      ]),
    ),
);
const steps: fc.Arbitrary<Step[]> = fc.array(
  fc.oneof(
    { weight: 4, arbitrary: fc.record({ op: fc.constant("earn" as const), points: fc.integer({ min: 0, max: 200 }) }) },
    {
      weight: 3,
      arbitrary: fc.record({
        op: fc.constant("adjust" as const),
        pick: fc.nat(),
        newAmount: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 300 })),
        allowNegative: fc.boolean(),
      }),
    },
    { weight: 3, arbitrary: fc.record({ op: fc.constant("redeem" as const), points: fc.integer({ min: 1, max: 150 }), replay: fc.boolean() }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant("reverse" as const), pick: fc.nat() }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 60 * DAY }), alarm: fc.boolean() }) },
    {
      weight: 1,
      arbitrary: fc.record({
        op: fc.constant("policy" as const),
        expiry: expiries,
        timezone: fc.constantFrom("UTC", "Europe/Berlin", "America/New_York"),
        tiers: ladders,
      }),
    },
  ),
  { minLength: 20, maxLength: 30 },
);

describe("points invariants (property-based)", () => {
  it("after every step of random earns, adjustments, redemptions, reversals, expiries and ladder changes: earned − redeemed + reversed − expired ± adjusted = balance", async () => {
    await fc.assert(
      fc.asyncProperty(steps, async (run) => {
        const member = await newMember({ now: at("2027-01-01T12:00:00Z") });
        const { stub, object, projectKey, userId } = member;
        let policy: PointsPolicy = policyOf({ version: 1, expiry: { mode: "after_days", days: 10 } });
        const redemptions: Array<{ id: string; key: string; points: number }> = [];
        for (const [index, step] of run.entries()) {
          switch (step.op) {
            case "earn":
              expect((await member.log(earnCommand(step.points, { now: member.clock.now, policy }))).kind).toBe("logged");
              break;
            case "adjust": {
              const events = await runInDurableObject(stub, (_i, state) =>
                state.storage.sql
                  .exec<{ event_uid: string; occurred_at: number; reward_amount: number }>(
                    "SELECT event_uid, occurred_at, reward_amount FROM ledger ORDER BY id",
                  )
                  .toArray(),
              );
              const event = events[step.pick % Math.max(events.length, 1)];
              if (!event) break;
              const outcome = await object.adjust({
                eventUid: event.event_uid,
                occurredAt: new Date(event.occurred_at).toISOString(),
                rewardType: "LOYALTY_POINTS",
                originalAmount: event.reward_amount,
                newAmount: step.newAmount,
                reason: "correction",
                allowNegativeBalance: step.allowNegative,
                pointsBoards: [],
                idempotencyKey: null,
                requestHash: null,
                policy,
              });
              expect(["adjusted", "negative_balance"]).toContain(outcome.kind);
              break;
            }
            case "redeem": {
              const previous = step.replay ? redemptions.at(-1) : undefined;
              const key = previous?.key ?? `k-${index}`;
              const points = previous?.points ?? step.points;
              const outcome = await object.redeem(projectKey, userId, {
                policy,
                points,
                reason: "r",
                reference: null,
                metadata: {},
                idempotencyKey: key,
                requestHash: `h-${points}`,
              });
              expect(["redeemed", "insufficient_points"]).toContain(outcome.kind);
              if (outcome.kind === "redeemed") {
                expect(outcome.replayed).toBe(previous !== undefined);
                if (!outcome.replayed) redemptions.push({ id: outcome.redemption.redemptionId, key, points });
              }
              break;
            }
            case "reverse": {
              const redemption = redemptions[step.pick % Math.max(redemptions.length, 1)];
              if (!redemption) break;
              const outcome = await object.reverseRedemption(projectKey, userId, { policy, redemptionId: redemption.id, reason: "undo" });
              expect(["reversed", "already_reversed"]).toContain(outcome.kind);
              break;
            }
            case "advance":
              member.clock.now += step.ms;
              if (step.alarm) await fireAlarm(stub);
              else await object.snapshot();
              break;
            case "policy":
              policy = { version: policy.version + 1, expiry: step.expiry, timezone: step.timezone, tiers: step.tiers };
              // Adopted with the next command; a read adopts it too when the Worker passes it.
              await object.standing([], [], policy);
              break;
          }
          const state = await expectInvariants(stub);
          // The tier stored is one the ladder in force has (or none).
          if (state.tier.tier_id !== null) expect(policy.tiers?.levels.map((l) => l.tierId)).toContain(state.tier.tier_id);
        }
        // Each points_change message has its own profile seq, increasing in the order they were sent.
        const seqs = member.changes().map((c) => c.seq);
        expect(seqs.every((seq, i) => i === 0 || seq > seqs[i - 1]!)).toBe(true);
      }),
      { numRuns: 50 },
    );
  }, 180_000);
});
