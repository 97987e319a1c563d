// The costs report's period as it lives in the URL, and month names.
import { describe, expect, it } from "vitest";

import { formatMonth, readReportParams } from "./CostsPage";

describe("readReportParams", () => {
  it("reads offered day counts and well-formed months", () => {
    expect(readReportParams(new URLSearchParams("days=7&month=2026-10"))).toEqual({ days: 7, month: "2026-10" });
  });

  it("falls back to 30 days and the current month for anything else", () => {
    expect(readReportParams(new URLSearchParams("days=12&month=2026-13"))).toEqual({ days: 30, month: null });
    expect(readReportParams(new URLSearchParams(""))).toEqual({ days: 30, month: null });
  });

  it("names a month in words", () => {
    expect(formatMonth("2026-11")).toMatch(/2026/);
    expect(formatMonth("2026-11")).not.toMatch(/2026-11/);
  });
});
