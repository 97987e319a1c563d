// Refusals of bookings and launches read by their envelope code.
import { describe, expect, it } from "vitest";

import { ApiError } from "../api/errors";
import { refusal } from "./moneyErrors";

describe("refusal", () => {
  it("names a taken time and says what to do", () => {
    const r = refusal(new ApiError(409, "BookingConflict", "machine 3 is not free then: booked"));
    expect(r.title).toBe("That time is taken");
    expect(r.detail).toContain("machine 3 is not free then: booked");
  });

  it("points at the wallet for money problems", () => {
    expect(refusal(new ApiError(402, "InsufficientFunds", "insufficient funds: 9.00 USD needed")).fix?.to).toBe("/wallet");
    expect(refusal(new ApiError(402, "BudgetExceeded", "over budget")).title).toBe("Over your monthly budget");
  });

  it("keeps the server's words for anything else", () => {
    const r = refusal(new ApiError(409, "Conflict", "machine 3 is offline"));
    expect(r).toEqual({ title: "Not possible right now", detail: "machine 3 is offline" });
    expect(refusal(new ApiError(0, "NetworkError", "down")).title).toBe("GP4U could not be reached");
    expect(refusal(new Error("boom")).detail).toBe("boom");
  });
});
