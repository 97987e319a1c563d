// Small pieces the booking pages share: the My GPUs tabs, state badges, a ticking clock for
// "time left" and the not-found view for another user's (or no) object.
import { useEffect, useState } from "react";
import { Link, NavLink } from "react-router";

import { duration } from "./estimate";

export function MyGpusTabs() {
  return (
    <nav className="tabs" aria-label="My GPUs">
      <NavLink to="/sessions" end>
        Sessions
      </NavLink>
      <NavLink to="/reservations" end>
        Reservations
      </NavLink>
    </nav>
  );
}

const STATE_CLASS: Record<string, string> = {
  running: "state-good",
  active: "state-good",
  completed: "state-good",
  terminated: "",
  provisioning: "state-warn",
  starting: "state-warn",
  pending: "state-warn",
  ending: "state-warn",
  failed: "state-bad",
  cancelled: "",
};

export function StateBadge({ state }: { state: string }) {
  return <span className={`state ${STATE_CLASS[state] ?? ""}`}>{state}</span>;
}

/** The current time, updated every `ms` (for countdowns; server data refreshes on its own). */
export function useNow(ms = 30_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), ms);
    return () => window.clearInterval(timer);
  }, [ms]);
  return now;
}

/** "2 h 5 min left", "starts in 3 d 2 h", or "ended". */
export function timeLeft(start: string | null, end: string, now: number): string {
  const startAt = start ? Date.parse(start) : null;
  if (startAt !== null && startAt > now) return `starts in ${duration(Math.ceil((startAt - now) / 60_000))}`;
  const endAt = Date.parse(end);
  if (endAt <= now) return "time is up";
  return `${duration(Math.ceil((endAt - now) / 60_000))} left`;
}

export function NotFoundView({ what, back, backLabel }: { what: string; back: string; backLabel: string }) {
  return (
    <section className="page narrow" aria-labelledby="booking-notfound-title">
      <h1 id="booking-notfound-title">{what} not found</h1>
      <p>
        There is no such {what.toLowerCase()} among yours: it may belong to someone else, or the address is wrong.{" "}
        <Link to={back}>{backLabel}</Link>
      </p>
    </section>
  );
}

