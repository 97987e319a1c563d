// A machine's bookings calendar, a month at a time: a grid of days (arrow keys, Home/End and
// Page Up/Down move, Enter or a click opens a day), where booked time shows as a solid bar and
// "Booked", blocked time as a hatched bar and "Blocked", so neither relies on colour alone.
import { useQuery } from "@tanstack/react-query";
import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from "react";

import { api } from "../api/client";
import { describeError, unwrap } from "../api/errors";
import { clock, describeDay, keyTarget, monthGrid, monthOf, shiftMonth, summarise } from "./calendarMonth";
import { HOST_KEY } from "./queries";
import type { CalendarDay, Segment } from "./types";

const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

function today(tz: string): string {
  return new Date().toLocaleDateString("en-CA", { timeZone: tz });
}

interface Props {
  machineId: number;
  tz: string;
  /** Renders under a selected day's list of time, for each blocked segment (e.g. an Unblock button). */
  blockAction?: (segment: Segment) => React.ReactNode;
}

export function MonthCalendar({ machineId, tz, blockAction }: Props) {
  const [focused, setFocused] = useState(() => today(tz));
  const [selected, setSelected] = useState<string | null>(null);
  const month = monthOf(focused);
  const grid = useMemo(() => monthGrid(month), [month]);
  const cells = useRef(new Map<string, HTMLButtonElement>());
  const wantFocus = useRef(false);
  const calendar = useQuery({
    queryKey: [...HOST_KEY, "calendar", machineId, month, tz],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/machines/{machine_id}/calendar", {
          params: { path: { machine_id: machineId }, query: { start: `${month}-01`, days: grid.flat().filter(Boolean).length, tz } },
        }),
      ),
  });
  const byDate = useMemo(() => new Map<string, CalendarDay>((calendar.data?.days ?? []).map((d) => [d.date, d])), [calendar.data]);

  useEffect(() => {
    if (!wantFocus.current) return;
    wantFocus.current = false;
    cells.current.get(focused)?.focus();
  }, [focused, grid]);

  const onKeyDown = (event: KeyboardEvent) => {
    const target = keyTarget(event.key, focused);
    if (!target) return;
    event.preventDefault();
    wantFocus.current = true;
    setFocused(target);
  };
  const move = (delta: number) => setFocused(`${shiftMonth(month, delta)}-01`);
  const monthName = new Date(`${month}-15T12:00:00Z`).toLocaleDateString("en-GB", { month: "long", year: "numeric", timeZone: "UTC" });
  const open = selected ? byDate.get(selected) : undefined;

  return (
    <div className="month-calendar">
      <div className="month-head">
        <button type="button" className="button button-quiet" onClick={() => move(-1)}>
          <span aria-hidden="true">‹</span> Previous<span className="sr-only"> month</span>
        </button>
        <h3 id={`cal-${machineId}-month`} aria-live="polite">
          {monthName}
        </h3>
        <button type="button" className="button button-quiet" onClick={() => move(1)}>
          Next<span className="sr-only"> month</span> <span aria-hidden="true">›</span>
        </button>
      </div>
      <p className="muted month-legend">
        <span className="legend-item">
          <span className="bar bar-booked" aria-hidden="true" /> Booked
        </span>
        <span className="legend-item">
          <span className="bar bar-blocked" aria-hidden="true" /> Blocked
        </span>
        <span className="legend-item">
          <span className="day-closed-mark" aria-hidden="true">
            –
          </span>{" "}
          Closed all day
        </span>
        <span>Times in {tz}. Arrow keys move between days; Enter opens one.</span>
      </p>
      {calendar.isError ? (
        <p className="notice notice-stale" role="alert">
          Could not load the calendar: {describeError(calendar.error)}
        </p>
      ) : null}
      <table role="grid" className="month-grid" aria-labelledby={`cal-${machineId}-month`} aria-busy={calendar.isPending} onKeyDown={onKeyDown}>
        <thead>
          <tr>
            {WEEKDAYS.map((d) => (
              <th key={d} scope="col">
                {d}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {grid.map((week, w) => (
            <tr key={w}>
              {week.map((iso, i) => {
                if (!iso) return <td key={i} role="gridcell" className="day-out" />;
                const summary = summarise(byDate.get(iso));
                return (
                  <td key={iso} role="gridcell" aria-selected={selected === iso}>
                    <button
                      type="button"
                      ref={(el) => {
                        if (el) cells.current.set(iso, el);
                        else cells.current.delete(iso);
                      }}
                      className={`day${summary.closed ? " day-closed" : ""}${iso === today(tz) ? " day-today" : ""}`}
                      tabIndex={iso === focused ? 0 : -1}
                      aria-current={iso === today(tz) ? "date" : undefined}
                      onFocus={() => setFocused(iso)}
                      onClick={() => setSelected(iso)}
                    >
                      <span className="day-number" aria-hidden="true">
                        {Number(iso.slice(8))}
                      </span>
                      <span className="sr-only">{describeDay(iso, summary)}</span>
                      {summary.closed ? (
                        <span className="day-closed-mark" aria-hidden="true">
                          –
                        </span>
                      ) : null}
                      {summary.booked.length ? (
                        <span className="day-mark" aria-hidden="true">
                          <span className="bar bar-booked" />
                          <span className="day-mark-text">Booked{summary.booked.length > 1 ? ` ×${summary.booked.length}` : ""}</span>
                        </span>
                      ) : null}
                      {summary.blocked.length ? (
                        <span className="day-mark" aria-hidden="true">
                          <span className="bar bar-blocked" />
                          <span className="day-mark-text">Blocked</span>
                        </span>
                      ) : null}
                    </button>
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
      {selected ? (
        <section className="day-detail card" aria-label={`Day ${selected}`}>
          <h4>{describeDay(selected, summarise(open)).split(":")[0]}</h4>
          {!open ? (
            <p className="muted">{calendar.isPending ? "Loading…" : "Outside the month shown."}</p>
          ) : (
            <ul className="segment-list">
              {open.segments.map((s) => (
                <li key={s.start} className={`segment segment-${s.status}`}>
                  <span className="segment-time">
                    {clock(s.start, tz)}–{clock(s.end, tz) === "00:00" ? "24:00" : clock(s.end, tz)}
                  </span>{" "}
                  <strong>{SEGMENT_WORDS[s.status]}</strong>
                  {s.reservation_id ? <span> · reservation #{s.reservation_id}</span> : null}
                  {s.status === "blocked" && blockAction ? <> {blockAction(s)}</> : null}
                </li>
              ))}
            </ul>
          )}
        </section>
      ) : null}
    </div>
  );
}

const SEGMENT_WORDS: Record<Segment["status"], string> = {
  free: "Free",
  booked: "Booked",
  blocked: "Blocked",
  closed: "Closed (outside the hours)",
};
