// The booking calendar: a machine's free and busy hours as a grid (a week, or one day on narrow
// screens) in the user's time zone. Arrow keys, Home/End move between hours and days, Page
// Up/Down between weeks (or days); Enter or a click picks the start, then the end. Busy and past
// hours are hatched and say so to screen readers.
import { useEffect, useRef, useState, type KeyboardEvent } from "react";

import { moveInGrid, type Cell, type Day, type Range } from "./slots";

const STATUS_TEXT: Record<Cell["status"], string> = {
  free: "free",
  partial: "partly free",
  busy: "not available",
  past: "past",
};

const dayName = (t: number) => new Date(t).toLocaleDateString(undefined, { weekday: "short", day: "numeric", month: "short" });
const hourName = (t: number) => new Date(t).toLocaleTimeString(undefined, { hour: "numeric" });
const timeName = (t: number) => new Date(t).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });

export interface SlotCalendarProps {
  days: Day[];
  selection: Range | null;
  onPick: (cell: Cell) => void;
  /** Page Up / Page Down: show the previous or next period. */
  onPage: (direction: -1 | 1) => void;
  label: string;
}

function inSelection(cell: Cell, selection: Range | null): boolean {
  return selection !== null && cell.start < selection.end && cell.end > selection.start;
}

/** The cell to focus first: the selection's start, else the first free one, else 08:00. */
function initialFocus(days: Day[], selection: Range | null): [number, number] {
  for (const [d, day] of days.entries()) {
    for (const [h, cell] of day.cells.entries()) {
      if (selection && cell.start <= selection.start && selection.start < cell.end) return [d, h];
    }
  }
  for (const [d, day] of days.entries()) {
    const h = day.cells.findIndex((c) => c.status === "free" || c.status === "partial");
    if (h >= 0) return [d, h];
  }
  return [0, 8];
}

export function SlotCalendar({ days, selection, onPick, onPage, label }: SlotCalendarProps) {
  const [focus, setFocus] = useState<[number, number]>(() => initialFocus(days, selection));
  const grid = useRef<HTMLTableElement>(null);
  const scroller = useRef<HTMLDivElement>(null);
  const moved = useRef(false);
  const first = days[0]?.start;

  // A new period: put the roving focus on its first free hour and scroll there.
  useEffect(() => {
    const next = initialFocus(days, selection);
    setFocus(next);
    const cell = grid.current?.querySelector<HTMLElement>(`[data-cell="${next[0]}-${next[1]}"]`);
    if (cell && scroller.current) scroller.current.scrollTop = Math.max(0, cell.offsetTop - 48);
    // Only when the period changes, not on every pick.
  }, [first, days.length]);

  useEffect(() => {
    if (!moved.current) return;
    moved.current = false;
    grid.current?.querySelector<HTMLElement>(`[data-cell="${focus[0]}-${focus[1]}"]`)?.focus();
  }, [focus]);

  const onKeyDown = (event: KeyboardEvent<HTMLTableElement>) => {
    const [d, h] = focus;
    if (event.key === "PageUp" || event.key === "PageDown") {
      event.preventDefault();
      moved.current = true;
      onPage(event.key === "PageUp" ? -1 : 1);
      return;
    }
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      const cell = days[d]?.cells[h];
      if (cell) onPick(cell);
      return;
    }
    const next = moveInGrid(d, h, event.key, days.length);
    if (next) {
      event.preventDefault();
      moved.current = true;
      setFocus(next);
    }
  };

  return (
    <div className="slot-scroll" ref={scroller}>
      <table role="grid" aria-label={label} className={`slot-grid slot-days-${days.length}`} ref={grid} onKeyDown={onKeyDown}>
        <thead>
          <tr>
            <th scope="col">
              <span className="sr-only">Hour</span>
            </th>
            {days.map((day) => (
              <th scope="col" key={day.start}>
                {dayName(day.start)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {Array.from({ length: 24 }, (_, h) => (
            <tr key={h}>
              <th scope="row">{hourName(days[0]?.cells[h]?.start ?? 0)}</th>
              {days.map((day, d) => {
                const cell = day.cells[h]!;
                const selected = inSelection(cell, selection);
                const usable = cell.freeFrom !== null;
                return (
                  <td
                    key={day.start}
                    role="gridcell"
                    data-cell={`${d}-${h}`}
                    data-status={cell.status}
                    className={`slot slot-${cell.status}${selected ? " slot-selected" : ""}`}
                    tabIndex={focus[0] === d && focus[1] === h ? 0 : -1}
                    aria-selected={selected}
                    aria-disabled={!usable}
                    aria-label={`${dayName(cell.start)} ${timeName(cell.start)} to ${timeName(cell.end)}: ${STATUS_TEXT[cell.status]}${selected ? ", chosen" : ""}`}
                    onClick={() => {
                      setFocus([d, h]);
                      onPick(cell);
                    }}
                  >
                    <span aria-hidden="true">{selected ? "●" : cell.status === "partial" ? "◐" : ""}</span>
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function SlotLegend() {
  return (
    <ul className="slot-legend" aria-label="Calendar legend">
      <li>
        <span className="slot-swatch slot-free" aria-hidden="true" /> Free
      </li>
      <li>
        <span className="slot-swatch slot-partial" aria-hidden="true" /> Partly free
      </li>
      <li>
        <span className="slot-swatch slot-busy" aria-hidden="true" /> Not available
      </li>
      <li>
        <span className="slot-swatch slot-selected" aria-hidden="true" /> Your booking
      </li>
    </ul>
  );
}
