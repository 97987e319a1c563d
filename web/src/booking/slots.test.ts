// The booking calendar's slot logic: free/busy hour cells, picking a span, keyboard moves and
// the checks made before a booking is sent.
import { describe, expect, it } from "vitest";

import { addDays, buildDays, fitsFree, freeRanges, fromLocalInput, HOUR, MINUTE, moveInGrid, pick, spanProblem, toLocalInput, weekStart, type Pick } from "./slots";

const day = new Date(2026, 10, 23).getTime(); // Monday 23 Nov 2026, local midnight
const at = (h: number, m = 0) => day + h * HOUR + m * MINUTE;
const iso = (t: number) => new Date(t).toISOString();

// Free 09:00-12:00 and 14:30-18:00 on Monday.
const free = freeRanges([
  { start: iso(at(14, 30)), end: iso(at(18)) },
  { start: iso(at(9)), end: iso(at(12)) },
]);

describe("freeRanges", () => {
  it("sorts and merges touching slots", () => {
    const merged = freeRanges([
      { start: iso(at(11)), end: iso(at(12)) },
      { start: iso(at(10)), end: iso(at(11)) },
    ]);
    expect(merged).toEqual([{ start: at(10), end: at(12) }]);
  });
});

describe("weekStart", () => {
  it("is Monday midnight", () => {
    expect(weekStart(at(30))).toBe(day); // Tuesday 06:00
    expect(weekStart(addDays(day, 6) + 5 * HOUR)).toBe(day); // Sunday
    expect(weekStart(addDays(day, 7))).toBe(addDays(day, 7));
  });
});

describe("buildDays", () => {
  const [monday] = buildDays(day, 1, free, at(8, 15));

  it("has 24 hour cells a day", () => {
    expect(monday!.cells).toHaveLength(24);
    expect(monday!.cells[0]!.start).toBe(day);
    expect(monday!.cells[23]!.end).toBe(addDays(day, 1));
  });

  it("marks past, free, partly free and busy hours", () => {
    const status = (h: number) => monday!.cells[h]!.status;
    expect(status(7)).toBe("past");
    expect(status(8)).toBe("busy"); // not past yet, but not free
    expect(status(9)).toBe("free");
    expect(status(11)).toBe("free");
    expect(status(12)).toBe("busy");
    expect(status(14)).toBe("partial");
    expect(monday!.cells[14]!.freeFrom).toBe(at(14, 30));
    expect(status(17)).toBe("free");
    expect(status(18)).toBe("busy");
  });
});

describe("pick", () => {
  const [monday] = buildDays(day, 1, free, at(0));
  const cell = (h: number) => monday!.cells[h]!;
  const empty: Pick = { selection: null, phase: "start" };

  it("starts a span at a free cell, an hour long or the machine's minimum", () => {
    expect(pick(empty, cell(9), free, 0)).toEqual({ selection: { start: at(9), end: at(10) }, phase: "end" });
    expect(pick(empty, cell(9), free, 120).selection).toEqual({ start: at(9), end: at(11) });
  });

  it("never runs past the free stretch", () => {
    expect(pick(empty, cell(11), free, 180).selection).toEqual({ start: at(11), end: at(12) });
  });

  it("starts at the first free minute of a partly free cell", () => {
    expect(pick(empty, cell(14), free, 0).selection).toEqual({ start: at(14, 30), end: at(15, 30) });
  });

  it("then takes a later cell of the same stretch as the end", () => {
    const first = pick(empty, cell(9), free, 0);
    expect(pick(first, cell(11), free, 0)).toEqual({ selection: { start: at(9), end: at(12) }, phase: "start" });
  });

  it("starts over on a cell beyond the stretch or before the start", () => {
    const first = pick(empty, cell(10), free, 0);
    expect(pick(first, cell(15), free, 0).selection).toEqual({ start: at(15), end: at(16) });
    expect(pick(first, cell(9), free, 0).selection).toEqual({ start: at(9), end: at(10) });
  });

  it("ignores busy cells", () => {
    const first = pick(empty, cell(9), free, 0);
    expect(pick(first, cell(13), free, 0)).toBe(first);
  });
});

describe("spanProblem", () => {
  const now = at(0);
  it("accepts free whole-minute spans", () => {
    expect(spanProblem({ start: at(9, 15), end: at(11, 45) }, free, 60, now)).toBeNull();
    expect(fitsFree(at(9), at(12), free)).toBe(true);
  });

  it("says what is wrong", () => {
    expect(spanProblem(null, free, 0, now)).toMatch(/Choose/);
    expect(spanProblem({ start: at(10), end: at(10) }, free, 0, now)).toMatch(/after the start/);
    expect(spanProblem({ start: at(9), end: at(9, 30) }, free, 60, now)).toMatch(/at least 1 h/);
    expect(spanProblem({ start: at(9), end: at(9, 30) }, free, 45, now)).toMatch(/at least 45 min/);
    expect(spanProblem({ start: at(11), end: at(15) }, free, 0, now)).toMatch(/not free/);
    expect(spanProblem({ start: at(9), end: at(10) }, free, 0, at(9, 30))).toMatch(/past/);
    expect(spanProblem({ start: at(9) + 1000, end: at(10) }, free, 0, now)).toMatch(/whole minutes/);
  });
});

describe("moveInGrid", () => {
  it("moves by hours and days, staying inside", () => {
    expect(moveInGrid(0, 0, "ArrowUp", 7)).toEqual([0, 0]);
    expect(moveInGrid(0, 5, "ArrowDown", 7)).toEqual([0, 6]);
    expect(moveInGrid(6, 5, "ArrowRight", 7)).toEqual([6, 5]);
    expect(moveInGrid(3, 5, "ArrowLeft", 7)).toEqual([2, 5]);
    expect(moveInGrid(3, 5, "End", 7)).toEqual([3, 23]);
    expect(moveInGrid(3, 5, "Home", 7)).toEqual([3, 0]);
    expect(moveInGrid(3, 5, "x", 7)).toBeNull();
  });
});

describe("local inputs", () => {
  it("round-trips whole minutes", () => {
    expect(toLocalInput(at(9, 5))).toBe("2026-11-23T09:05");
    expect(fromLocalInput("2026-11-23T09:05")).toBe(at(9, 5));
    expect(fromLocalInput("2026-11-23T09:05:30")).toBe(at(9, 5));
    expect(fromLocalInput("")).toBeNull();
  });
});
