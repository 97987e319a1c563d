// Amount checks for the wallet's dialogs and the budget warning levels.
import { describe, expect, it } from "vitest";

import { budgetLevel, checkAmount } from "./amounts";

describe("checkAmount", () => {
  it("accepts dollars and cents, with a $ or thousands separators", () => {
    expect(checkAmount("25", { max: 100_000 })).toEqual({ ok: true, value: "25" });
    expect(checkAmount(" $1,250.5 ", { max: 100_000 })).toEqual({ ok: true, value: "1250.5" });
  });

  it("refuses empty, malformed, fractional-cent and negative amounts", () => {
    expect(checkAmount("", { max: 10 })).toMatchObject({ ok: false });
    expect(checkAmount("abc", { max: 10 })).toMatchObject({ ok: false });
    expect(checkAmount("1.234", { max: 10 })).toMatchObject({ ok: false, problem: expect.stringContaining("cents") });
    expect(checkAmount("-5", { max: 10 })).toMatchObject({ ok: false });
  });

  it("refuses zero unless allowed, and anything above the maximum", () => {
    expect(checkAmount("0", { max: 10 })).toMatchObject({ ok: false });
    expect(checkAmount("0", { max: 10, allowZero: true })).toEqual({ ok: true, value: "0" });
    expect(checkAmount("100000.01", { max: 100_000 })).toEqual({ ok: false, problem: "At most $100,000." });
  });
});

describe("budgetLevel", () => {
  it("warns from 80 % and says over at 100 %", () => {
    expect(budgetLevel(0)).toBe("ok");
    expect(budgetLevel(79.9)).toBe("ok");
    expect(budgetLevel(80)).toBe("near");
    expect(budgetLevel(100)).toBe("over");
    expect(budgetLevel(130)).toBe("over");
  });
});
