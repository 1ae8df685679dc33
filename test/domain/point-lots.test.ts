import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { creditedToLots, debitedFromLots, giveBack, lotExpiresAt, policyTimeZone, takeOldestFirst } from "../../src/domain/point-lots";

const at = (iso: string) => Date.parse(iso);
const expiry = (earned: string, days: number, zone = "UTC") => new Date(lotExpiresAt(at(earned), { mode: "after_days", days }, zone)!).toISOString();

describe("lotExpiresAt", () => {
  it("never expires with mode none", () => {
    expect(lotExpiresAt(at("2026-01-10T10:00:00Z"), { mode: "none" }, "UTC")).toBeNull();
  });

  it("after_days: at the end of the local day `days` after the day earned", () => {
    expect(expiry("2026-01-10T10:00:00Z", 30)).toBe("2026-02-10T00:00:00.000Z");
    expect(expiry("2026-01-10T00:00:00Z", 1)).toBe("2026-01-12T00:00:00.000Z");
    expect(expiry("2026-01-10T23:59:59.999Z", 1)).toBe("2026-01-12T00:00:00.000Z");
    // 23:30 UTC on the 10th is already the 11th in Berlin: the local day counts.
    expect(expiry("2026-01-10T23:30:00Z", 1, "Europe/Berlin")).toBe("2026-01-12T23:00:00.000Z");
  });

  it("after_days: at local midnight across Berlin's DST changes (2026-03-29 and 2026-10-25)", () => {
    // Midnight starting 29 March is still +01:00 (the change is at 02:00); midnight starting 30 March is +02:00.
    expect(expiry("2026-02-27T12:00:00Z", 29, "Europe/Berlin")).toBe("2026-03-28T23:00:00.000Z");
    expect(expiry("2026-02-28T12:00:00Z", 29, "Europe/Berlin")).toBe("2026-03-29T22:00:00.000Z");
    // Midnight starting 25 October is still +02:00; midnight starting 26 October is +01:00 (a 25-hour day between).
    expect(expiry("2026-09-25T12:00:00Z", 29, "Europe/Berlin")).toBe("2026-10-24T22:00:00.000Z");
    expect(expiry("2026-09-26T12:00:00Z", 29, "Europe/Berlin")).toBe("2026-10-25T23:00:00.000Z");
  });

  it("after_days: where DST skips midnight, at the moment the day begins", () => {
    // Santiago skips 00:00 → 01:00 on 2026-09-06: that day begins at 01:00 local (04:00Z at -03:00).
    expect(expiry("2026-08-05T15:00:00Z", 31, "America/Santiago")).toBe("2026-09-06T04:00:00.000Z");
  });

  it("end_of_year_after: at the end of the local year `years` after the year earned", () => {
    const year = (earned: string, years: number, zone = "UTC") => new Date(lotExpiresAt(at(earned), { mode: "end_of_year_after", years }, zone)!).toISOString();
    expect(year("2026-06-01T00:00:00Z", 0)).toBe("2027-01-01T00:00:00.000Z");
    expect(year("2026-06-01T00:00:00Z", 1)).toBe("2028-01-01T00:00:00.000Z");
    // 31 December 23:30 UTC is already 2027 in Berlin.
    expect(year("2026-12-31T23:30:00Z", 0, "Europe/Berlin")).toBe("2027-12-31T23:00:00.000Z");
  });

  it("computes in UTC for a zone Intl does not know", () => {
    expect(policyTimeZone("Mars/Olympus")).toBe("UTC");
    expect(expiry("2026-01-10T10:00:00Z", 1, "Mars/Olympus")).toBe("2026-01-12T00:00:00.000Z");
  });
});

describe("takeOldestFirst", () => {
  it("takes from the oldest lots first and reads no further than needed", () => {
    let read = 0;
    function* lots() {
      for (const lot of [
        { id: 1, remaining: 30 },
        { id: 2, remaining: 50 },
        { id: 3, remaining: 20 },
      ]) {
        read++;
        yield lot;
      }
    }
    expect(takeOldestFirst(lots(), 60)).toEqual({
      taken: [
        { lotId: 1, points: 30 },
        { lotId: 2, points: 30 },
      ],
      untaken: 0,
    });
    expect(read).toBe(2);
    expect(takeOldestFirst([{ id: 1, remaining: 5 }], 8)).toEqual({ taken: [{ lotId: 1, points: 5 }], untaken: 3 });
    expect(takeOldestFirst([{ id: 1, remaining: 5 }], 0)).toEqual({ taken: [], untaken: 0 });
  });
});

describe("debts", () => {
  it("pays a debt first from points added, and takes from lots only what the balance holds", () => {
    expect(creditedToLots(10, 5)).toBe(5);
    expect(creditedToLots(-3, 5)).toBe(2);
    expect(creditedToLots(-8, 5)).toBe(0);
    expect(debitedFromLots(10, 4)).toBe(4);
    expect(debitedFromLots(3, 5)).toBe(3);
    expect(debitedFromLots(-2, 5)).toBe(0);
  });

  it("keeps the lots' total at max(balance, 0) through any credit or debit", () => {
    fc.assert(
      fc.property(fc.integer({ min: -1000, max: 1000 }), fc.array(fc.integer({ min: -500, max: 500 }), { maxLength: 30 }), (start, moves) => {
        let balance = start;
        let lots = Math.max(start, 0);
        for (const move of moves) {
          if (move > 0) lots += creditedToLots(balance, move);
          if (move < 0) lots -= debitedFromLots(balance, -move);
          balance += move;
          expect(lots).toBe(Math.max(balance, 0));
        }
      }),
    );
  });
});

describe("giveBack", () => {
  const taken = [
    { lotId: 1, points: 50 },
    { lotId: 2, points: 10 },
  ];

  it("restores lots that have not expired and makes one new lot of what expired lots gave", () => {
    expect(giveBack(taken, (id) => id === 1, 0)).toEqual({ restored: [{ lotId: 2, points: 10 }], newLot: 50, paidDebt: 0 });
    expect(giveBack(taken, () => false, 0)).toEqual({ restored: taken, newLot: 0, paidDebt: 0 });
  });

  it("pays a debt first, from the points in the order they were taken", () => {
    expect(giveBack(taken, () => false, 55)).toEqual({ restored: [{ lotId: 2, points: 5 }], newLot: 0, paidDebt: 55 });
    expect(giveBack(taken, () => true, 100)).toEqual({ restored: [], newLot: 0, paidDebt: 60 });
  });
});
