// My reservations (My GPUs → Reservations): every booking of yours, newest first, with its
// state, times, time left and money; refreshes itself while any is pending or active.
import { useEffect, useState } from "react";
import { Link } from "react-router";

import { dateTime, money } from "../app/format";
import { TableWrap } from "../app/TableWrap";
import { LoadError } from "../app/LoadError";
import { MyGpusTabs, StateBadge, timeLeft, useNow } from "./parts";
import { OPEN_RESERVATION_STATES, useReservations } from "./queries";
import type { Reservation } from "./types";
import "./booking.css";

type Filter = "open" | "ended" | "all";

function matches(r: Reservation, filter: Filter): boolean {
  return filter === "all" || (filter === "open") === OPEN_RESERVATION_STATES.includes(r.state);
}

export function ReservationsPage() {
  const reservations = useReservations();
  const now = useNow();
  const [filter, setFilter] = useState<Filter>("all");
  useEffect(() => {
    document.title = "My reservations · GP4U";
  }, []);
  const items = reservations.data?.items ?? [];
  const shown = items.filter((r) => matches(r, filter));

  return (
    <section className="page booking-page" aria-labelledby="reservations-title">
      <div className="page-head">
        <h1 id="reservations-title">My GPUs</h1>
        <Link className="button" to="/?q=source%3Dhost">
          Book a host's machine
        </Link>
      </div>
      <MyGpusTabs />
      <h2 className="sr-only">Reservations</h2>
      {reservations.isPending ? (
        <p className="page-status" role="status">
          Loading your reservations…
        </p>
      ) : reservations.isError ? (
        <LoadError what="your reservations" error={reservations.error} onRetry={() => void reservations.refetch()} />
      ) : items.length === 0 ? (
        <p className="empty">
          No reservations yet. Book time on a GP4U host's machine from the <Link to="/?q=source%3Dhost">marketplace</Link>.
        </p>
      ) : (
        <>
          <div className="filter-row">
            <label htmlFor="reservation-filter">Show</label>
            <select id="reservation-filter" value={filter} onChange={(e) => setFilter(e.target.value as Filter)}>
              <option value="all">All reservations</option>
              <option value="open">Upcoming and active</option>
              <option value="ended">Ended</option>
            </select>
            <span className="muted" role="status">
              {shown.length} of {items.length}
            </span>
          </div>
          {shown.length === 0 ? (
            <p className="empty">No {filter === "open" ? "upcoming or active" : "ended"} reservations.</p>
          ) : (
            <TableWrap label="Reservations table">
              <table className="data-table">
                <caption className="sr-only">Your reservations, newest first</caption>
                <thead>
                  <tr>
                    <th scope="col">Reservation</th>
                    <th scope="col">State</th>
                    <th scope="col">When</th>
                    <th scope="col">Time</th>
                    <th scope="col" className="num">
                      Quote
                    </th>
                    <th scope="col" className="num">
                      Held
                    </th>
                    <th scope="col" className="num">
                      Paid
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {shown.map((r) => (
                    <tr key={r.id}>
                      <td>
                        <Link to={`/reservations/${r.id}`}>Reservation {r.id}</Link>
                        <div className="muted">Machine {r.machine_id}</div>
                      </td>
                      <td>
                        <StateBadge state={r.state} />
                      </td>
                      <td className="nowrap">
                        {dateTime(r.start)}
                        <div className="muted">to {dateTime(r.end)}</div>
                      </td>
                      <td>{OPEN_RESERVATION_STATES.includes(r.state) ? timeLeft(r.start, r.end, now) : "—"}</td>
                      <td className="num">{money(r.quote)}</td>
                      <td className="num">{money(r.held)}</td>
                      <td className="num">{money(r.paid)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
          )}
        </>
      )}
    </section>
  );
}
