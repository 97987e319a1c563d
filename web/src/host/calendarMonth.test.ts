// The month calendar's logic: grids, keyboard moves and day summaries.
import { describe, expect, it } from "vitest";

import { describeDay, keyTarget, monthGrid, sameDayOtherMonth, shiftMonth, summarise } from "./calendarMonth";
import type { CalendarDay, Segment } from "./types";

describe("monthGrid", () => {
  it("starts weeks on Monday and pads with empty cells", () => {
    const weeks = monthGrid("2026-11"); // 1 November 2026 is a Sunday
    expect(weeks[0]).toEqual([null, null, null, null, null, null, "2026-11-01"]);
    expect(weeks.at(-1)?.[0]).toBe("2026-11-30");
    expect(weeks.every((w) => w.length === 7)).toBe(true);
    expect(weeks.flat().filter(Boolean)).toHaveLength(30);
  });

  it("knows leap years", () => {
    expect(monthGrid("2028-02").flat().filter(Boolean)).toHaveLength(29);
  });
});

describe("keyTarget", () => {
  it("moves by day, week, week edge and month", () => {
    expect(keyTarget("ArrowRight", "2026-11-30")).toBe("2026-12-01");
    expect(keyTarget("ArrowUp", "2026-11-03")).toBe("2026-10-27");
    expect(keyTarget("Home", "2026-11-05")).toBe("2026-11-02");
    expect(keyTarget("End", "2026-11-05")).toBe("2026-11-08");
    expect(keyTarget("PageDown", "2027-01-31")).toBe("2027-02-28");
    expect(keyTarget("Enter", "2026-11-05")).toBeNull();
  });

  it("shifts months across years", () => {
    expect(shiftMonth("2026-12", 1)).toBe("2027-01");
    expect(sameDayOtherMonth("2026-03-31", -1)).toBe("2026-02-28");
  });
});

describe("summarise", () => {
  const closedAll: Segment = { start: "2026-11-07T00:00:00Z", end: "2026-11-08T00:00:00Z", status: "closed", reservation_id: null };
  const freeHour: Segment = { start: "2026-11-06T09:00:00Z", end: "2026-11-06T10:00:00Z", status: "free", reservation_id: null };
  const day: CalendarDay = {
    date: "2026-11-05",
    segments: [
      { start: "2026-11-05T00:00:00Z", end: "2026-11-05T09:00:00Z", status: "closed", reservation_id: null },
      { start: "2026-11-05T09:00:00Z", end: "2026-11-05T10:00:00Z", status: "free", reservation_id: null },
      { start: "2026-11-05T10:00:00Z", end: "2026-11-05T12:00:00Z", status: "booked", reservation_id: 7 },
      { start: "2026-11-05T12:00:00Z", end: "2026-11-05T13:00:00Z", status: "blocked", reservation_id: null },
    ],
  };

  it("counts bookings, blocks and free time", () => {
    const s = summarise(day);
    expect(s.booked.map((b) => b.reservation_id)).toEqual([7]);
    expect(s.blocked).toHaveLength(1);
    expect(s.freeMinutes).toBe(60);
    expect(s.closed).toBe(false);
    expect(describeDay("2026-11-05", s)).toBe("Thursday 5 November: 1 booking, 1 blocked period");
  });

  it("says when a day is closed or free", () => {
    const closed = summarise({ date: "2026-11-07", segments: [closedAll] });
    expect(describeDay("2026-11-07", closed)).toBe("Saturday 7 November: closed");
    expect(describeDay("2026-11-06", summarise({ date: "2026-11-06", segments: [freeHour] }))).toBe("Friday 6 November: free");
  });
});
