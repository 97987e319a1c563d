// The booking calendar's logic (pure): a machine's free time (from its availability) laid out as
// a grid of hour cells in the user's time zone, picking a start and an end on it, moving through
// it with the keyboard, and checking a chosen span against the free time.
import type { Slot } from "./types";

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

/** A span of time in epoch milliseconds, [start, end). */
export interface Range {
  start: number;
  end: number;
}

/** free: bookable throughout; partial: bookable for part of it; busy: taken or closed; past. */
export type CellStatus = "free" | "partial" | "busy" | "past";

export interface Cell {
  start: number;
  end: number;
  status: CellStatus;
  /** The first bookable minute inside the cell (null when none). */
  freeFrom: number | null;
}

export interface Day {
  start: number;
  cells: Cell[];
}

/** The availability's free slots as sorted, merged ranges. */
export function freeRanges(slots: readonly Slot[]): Range[] {
  const ranges = slots
    .map((s) => ({ start: Date.parse(s.start), end: Date.parse(s.end) }))
    .filter((r) => Number.isFinite(r.start) && Number.isFinite(r.end) && r.end > r.start)
    .sort((a, b) => a.start - b.start);
  const merged: Range[] = [];
  for (const r of ranges) {
    const last = merged[merged.length - 1];
    if (last && r.start <= last.end) last.end = Math.max(last.end, r.end);
    else merged.push({ ...r });
  }
  return merged;
}

/** Local midnight of the day holding `t`. */
export function dayStart(t: number): number {
  const d = new Date(t);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
}

/** Local midnight `n` days after the day holding `t` (daylight-saving safe). */
export function addDays(t: number, n: number): number {
  const d = new Date(t);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate() + n).getTime();
}

/** Monday 00:00 (local) of the week holding `t`. */
export function weekStart(t: number): number {
  const weekday = (new Date(t).getDay() + 6) % 7; // Monday = 0
  return addDays(t, -weekday);
}

/** The free range holding minute `t`, if any. */
export function rangeAt(t: number, free: readonly Range[]): Range | undefined {
  return free.find((r) => r.start <= t && t < r.end);
}

/** Whether [start, end) lies inside one free range. */
export function fitsFree(start: number, end: number, free: readonly Range[]): boolean {
  const range = rangeAt(start, free);
  return range !== undefined && end <= range.end && end > start;
}

function cellOf(start: number, end: number, free: readonly Range[], now: number): Cell {
  if (end <= now) return { start, end, status: "past", freeFrom: null };
  let covered = 0;
  let freeFrom: number | null = null;
  for (const r of free) {
    const from = Math.max(r.start, start);
    const to = Math.min(r.end, end);
    if (to > from) {
      covered += to - from;
      freeFrom ??= from;
    }
  }
  const status: CellStatus = covered === 0 ? "busy" : covered >= end - start ? "free" : "partial";
  return { start, end, status, freeFrom };
}

/** `days` days of hour cells from local midnight `first`, each with its status. */
export function buildDays(first: number, days: number, free: readonly Range[], now: number): Day[] {
  const out: Day[] = [];
  for (let i = 0; i < days; i++) {
    const day = addDays(first, i);
    const next = addDays(first, i + 1);
    const cells: Cell[] = [];
    for (let h = 0; h < 24; h++) {
      const d = new Date(day);
      const start = new Date(d.getFullYear(), d.getMonth(), d.getDate(), h).getTime();
      const end = h === 23 ? next : new Date(d.getFullYear(), d.getMonth(), d.getDate(), h + 1).getTime();
      cells.push(cellOf(start, end, free, now));
    }
    out.push({ start: day, cells });
  }
  return out;
}

export type Phase = "start" | "end";

export interface Pick {
  selection: Range | null;
  /** What the next click on the calendar chooses. */
  phase: Phase;
}

/**
 * A click (or Enter) on a cell: in the "start" phase it starts a new span there (as long as the
 * machine's minimum, or an hour, within the free time); in the "end" phase a later cell in the
 * same free stretch becomes the end, anything else starts over.
 */
export function pick(current: Pick, cell: Cell, free: readonly Range[], minMinutes: number): Pick {
  if (cell.freeFrom === null) return current;
  const sel = current.selection;
  if (current.phase === "end" && sel && cell.end > sel.start) {
    const range = rangeAt(sel.start, free);
    if (range && rangeAt(cell.freeFrom, free) === range) {
      return { selection: { start: sel.start, end: Math.min(cell.end, range.end) }, phase: "start" };
    }
  }
  const start = cell.freeFrom;
  const range = rangeAt(start, free);
  if (!range) return current;
  const wanted = Math.max(minMinutes, 60) * MINUTE;
  return { selection: { start, end: Math.min(start + wanted, range.end) }, phase: "end" };
}

/** Why a chosen span cannot be booked, or null when it can. */
export function spanProblem(span: Range | null, free: readonly Range[], minMinutes: number, now: number): string | null {
  if (!span) return "Choose a start and an end on the calendar or below.";
  if (!Number.isFinite(span.start) || !Number.isFinite(span.end)) return "Enter a valid start and end.";
  if (span.start % MINUTE !== 0 || span.end % MINUTE !== 0) return "Times are in whole minutes.";
  if (span.end <= span.start) return "The end must be after the start.";
  if (span.start < Math.floor(now / MINUTE) * MINUTE) return "The start is in the past.";
  const minutes = (span.end - span.start) / MINUTE;
  if (minutes < minMinutes) return `This machine is rented for at least ${formatMinimum(minMinutes)}.`;
  if (!fitsFree(span.start, span.end, free)) return "Part of that time is not free: choose free time only.";
  return null;
}

function formatMinimum(minutes: number): string {
  return minutes % 60 === 0 ? `${minutes / 60} h` : `${minutes} min`;
}

export type GridKey = "ArrowUp" | "ArrowDown" | "ArrowLeft" | "ArrowRight" | "Home" | "End";

/** Where focus moves in a grid of `days` columns × 24 hours; null for other keys. */
export function moveInGrid(day: number, hour: number, key: string, days: number): [number, number] | null {
  switch (key) {
    case "ArrowUp":
      return [day, Math.max(0, hour - 1)];
    case "ArrowDown":
      return [day, Math.min(23, hour + 1)];
    case "ArrowLeft":
      return [Math.max(0, day - 1), hour];
    case "ArrowRight":
      return [Math.min(days - 1, day + 1), hour];
    case "Home":
      return [day, 0];
    case "End":
      return [day, 23];
    default:
      return null;
  }
}

const pad = (n: number) => String(n).padStart(2, "0");

/** A time as a datetime-local input's value (local time, whole minutes). */
export function toLocalInput(t: number): string {
  const d = new Date(t);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A datetime-local input's value as epoch ms (seconds dropped), or null when incomplete. */
export function fromLocalInput(value: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(value);
  if (!m) return null;
  const [, y, mo, d, h, mi] = m.map(Number) as [number, number, number, number, number, number];
  return new Date(y, mo - 1, d, h, mi).getTime();
}
