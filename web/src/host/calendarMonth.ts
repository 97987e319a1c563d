// The month calendar's pure logic: the weeks of a month (Monday first), moving the focused day
// with the keyboard, and what one day of GET /machines/{id}/calendar holds, in words.
import type { CalendarDay, Segment } from "./types";

/** The numbers of "2026-11-05" (or "2026-11", day 1). */
function parts(iso: string): [number, number, number] {
  const [y = 1970, m = 1, d = 1] = iso.split("-").map(Number);
  return [y, m, d];
}

/** "2026-11-05" → the same day `delta` days later, in plain calendar arithmetic (no zones). */
export function shiftDay(iso: string, delta: number): string {
  const [y, m, d] = parts(iso);
  return new Date(Date.UTC(y, m - 1, d + delta)).toISOString().slice(0, 10);
}

/** "2026-11" of a day. */
export function monthOf(iso: string): string {
  return iso.slice(0, 7);
}

export function shiftMonth(month: string, delta: number): string {
  const [y, m] = parts(month);
  return new Date(Date.UTC(y, m - 1 + delta, 1)).toISOString().slice(0, 7);
}

export function daysInMonth(month: string): number {
  const [y, m] = parts(month);
  return new Date(Date.UTC(y, m, 0)).getUTCDate();
}

/** The same day of the month `delta` months on, kept inside the shorter month (Jan 31 → Feb 28). */
export function sameDayOtherMonth(iso: string, delta: number): string {
  const month = shiftMonth(monthOf(iso), delta);
  const day = Math.min(Number(iso.slice(8, 10)), daysInMonth(month));
  return `${month}-${String(day).padStart(2, "0")}`;
}

/** Weeks of the month, Monday first; days outside the month are null. */
export function monthGrid(month: string): (string | null)[][] {
  const first = `${month}-01`;
  const [y, m] = parts(month);
  const lead = (new Date(Date.UTC(y, m - 1, 1)).getUTCDay() + 6) % 7; // Monday = 0
  const cells: (string | null)[] = Array.from({ length: lead }, () => null);
  for (let d = 0; d < daysInMonth(month); d++) cells.push(shiftDay(first, d));
  while (cells.length % 7 !== 0) cells.push(null);
  const weeks: (string | null)[][] = [];
  for (let i = 0; i < cells.length; i += 7) weeks.push(cells.slice(i, i + 7));
  return weeks;
}

/** The day the calendar's arrow, Home/End and Page keys move to, or null for other keys. */
export function keyTarget(key: string, day: string): string | null {
  const weekday = (new Date(`${day}T00:00:00Z`).getUTCDay() + 6) % 7;
  switch (key) {
    case "ArrowLeft":
      return shiftDay(day, -1);
    case "ArrowRight":
      return shiftDay(day, 1);
    case "ArrowUp":
      return shiftDay(day, -7);
    case "ArrowDown":
      return shiftDay(day, 7);
    case "Home":
      return shiftDay(day, -weekday);
    case "End":
      return shiftDay(day, 6 - weekday);
    case "PageUp":
      return sameDayOtherMonth(day, -1);
    case "PageDown":
      return sameDayOtherMonth(day, 1);
    default:
      return null;
  }
}

export interface DaySummary {
  booked: Segment[];
  blocked: Segment[];
  /** Free time the machine is open for booking. */
  freeMinutes: number;
  /** Whether the machine's hours close the whole day. */
  closed: boolean;
}

function minutesOf(segment: Segment): number {
  return (Date.parse(segment.end) - Date.parse(segment.start)) / 60_000;
}

export function summarise(day: CalendarDay | undefined): DaySummary {
  const segments = day?.segments ?? [];
  const booked = segments.filter((s) => s.status === "booked");
  const blocked = segments.filter((s) => s.status === "blocked");
  const freeMinutes = segments.filter((s) => s.status === "free").reduce((sum, s) => sum + minutesOf(s), 0);
  const closed = segments.length > 0 && segments.every((s) => s.status === "closed");
  return { booked, blocked, freeMinutes, closed };
}

/** What a screen reader hears for a day, e.g. "Thursday 5 November: 1 booking, 1 blocked period". */
export function describeDay(iso: string, summary: DaySummary): string {
  const date = new Date(`${iso}T12:00:00Z`).toLocaleDateString("en-GB", { weekday: "long", day: "numeric", month: "long", timeZone: "UTC" });
  const parts: string[] = [];
  if (summary.booked.length) parts.push(`${summary.booked.length} booking${summary.booked.length === 1 ? "" : "s"}`);
  if (summary.blocked.length) parts.push(`${summary.blocked.length} blocked period${summary.blocked.length === 1 ? "" : "s"}`);
  if (summary.closed) parts.push("closed");
  else if (!parts.length) parts.push(summary.freeMinutes > 0 ? "free" : "nothing to book");
  return `${date}: ${parts.join(", ")}`;
}

/** "09:00" in the calendar's zone. */
export function clock(iso: string, tz: string): string {
  return new Date(iso).toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: tz });
}
