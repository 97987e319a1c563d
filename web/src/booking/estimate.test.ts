// The cost estimate of a booking or a launch: exact micro-dollars, rounded up per started
// minute, checked against the wallet's balance and budget.
import { describe, expect, it } from "vitest";

import { cancelRefund, costMicros, duration, estimate, launchMinutes } from "./estimate";
import type { Wallet } from "./types";

const wallet = (available: number, remaining?: number): Wallet =>
  ({
    currency: "USD",
    available,
    held: 0,
    posted: available,
    budget:
      remaining === undefined
        ? null
        : { key_id: null, monthly_limit: 100, spent: 100 - remaining, remaining, used_percent: 0, month: "2026-11", thresholds: [] },
  }) as Wallet;

describe("costMicros", () => {
  it("is price × minutes, rounded up to the micro-dollar", () => {
    expect(costMicros(2, 60)).toBe(2_000_000);
    expect(costMicros(2, 90)).toBe(3_000_000);
    expect(costMicros(0.7, 1)).toBe(11_667); // 700000 / 60 = 11666.67 → up
    expect(costMicros(1.1, 3)).toBe(55_000); // no float noise
  });
});

describe("launchMinutes", () => {
  it("rounds a duration up to whole minutes, at least one", () => {
    expect(launchMinutes(0.5)).toBe(30);
    expect(launchMinutes(1.01)).toBe(61);
    expect(launchMinutes(0.0001)).toBe(1);
    expect(launchMinutes(2)).toBe(120);
  });
});

describe("estimate", () => {
  it("holds the whole quote and shows what is left", () => {
    const e = estimate(2.5, 120, wallet(20));
    expect(e.held).toBe(5);
    expect(e.available).toBe(20);
    expect(e.availableAfter).toBe(15);
    expect(e.problem).toBeNull();
  });

  it("says when the balance is short", () => {
    const e = estimate(2.5, 600, wallet(20));
    expect(e.held).toBe(25);
    expect(e.availableAfter).toBe(-5);
    expect(e.problem).toBe("insufficient_funds");
  });

  it("says when the budget would be exceeded", () => {
    const e = estimate(1, 180, wallet(50, 2));
    expect(e.budgetLeft).toBe(2);
    expect(e.problem).toBe("over_budget");
  });

  it("waits for the wallet before judging", () => {
    const e = estimate(1, 60, undefined);
    expect(e.held).toBe(1);
    expect(e.available).toBeNull();
    expect(e.problem).toBeNull();
  });

  it("holds nothing for an empty span", () => {
    expect(estimate(3, 0, wallet(1)).held).toBe(0);
  });
});

describe("duration", () => {
  it("reads like people talk", () => {
    expect(duration(45)).toBe("45 min");
    expect(duration(60)).toBe("1 h");
    expect(duration(90)).toBe("1 h 30 min");
    expect(duration(1440 + 180)).toBe("1 d 3 h");
  });
});

describe("cancelRefund", () => {
  const start = Date.parse("2026-11-27T10:00:00Z");
  const base = { start: "2026-11-27T10:00:00Z", price_per_hour: 6, held: 12, paid: 0 };

  it("gives everything back before the start", () => {
    expect(cancelRefund({ ...base, state: "pending" }, start - 1000)).toBe(12);
  });

  it("keeps the minutes started after the start", () => {
    // 10 min 1 s in: 11 started minutes at $0.10 = $1.10.
    expect(cancelRefund({ ...base, state: "active" }, start + 601_000)).toBeCloseTo(10.9, 6);
    // Already paid for the first hour: nothing more is owed for it.
    expect(cancelRefund({ ...base, state: "active", held: 6, paid: 6 }, start + 30 * 60_000)).toBe(6);
  });

  it("gives nothing back for an ended reservation", () => {
    expect(cancelRefund({ ...base, state: "completed" }, start)).toBe(0);
  });
});
