// My sessions (My GPUs → Sessions): every session of yours, newest first, with its state, time
// left and cost so far; refreshes itself while any is starting, running or ending.
import { useEffect, useState } from "react";
import { Link } from "react-router";

import { money } from "../app/format";
import { TableWrap } from "../app/TableWrap";
import { LoadError } from "../app/LoadError";
import { MyGpusTabs, StateBadge, timeLeft, useNow } from "./parts";
import { LIVE_SESSION_STATES, useSessions } from "./queries";
import type { Session } from "./types";
import "./booking.css";

type Filter = "live" | "ended" | "all";

function matches(session: Session, filter: Filter): boolean {
  const live = LIVE_SESSION_STATES.includes(session.state);
  return filter === "all" || (filter === "live") === live;
}

export function SessionsPage() {
  const sessions = useSessions();
  const now = useNow();
  const [filter, setFilter] = useState<Filter>("all");
  useEffect(() => {
    document.title = "My sessions · GP4U";
  }, []);
  const items = sessions.data?.items ?? [];
  const shown = items.filter((s) => matches(s, filter));

  return (
    <section className="page booking-page" aria-labelledby="sessions-title">
      <div className="page-head">
        <h1 id="sessions-title">My GPUs</h1>
        <Link className="button" to="/">
          Find a GPU
        </Link>
      </div>
      <MyGpusTabs />
      <h2 className="sr-only">Sessions</h2>
      {sessions.isPending ? (
        <p className="page-status" role="status">
          Loading your sessions…
        </p>
      ) : sessions.isError ? (
        <LoadError what="your sessions" error={sessions.error} onRetry={() => void sessions.refetch()} />
      ) : items.length === 0 ? (
        <p className="empty">
          No sessions yet. Launch an on-demand GPU from the <Link to="/">marketplace</Link>; it shows up here.
        </p>
      ) : (
        <>
          <div className="filter-row">
            <label htmlFor="session-filter">Show</label>
            <select id="session-filter" value={filter} onChange={(e) => setFilter(e.target.value as Filter)}>
              <option value="all">All sessions</option>
              <option value="live">Live (starting, running, ending)</option>
              <option value="ended">Ended</option>
            </select>
            <span className="muted" role="status">
              {shown.length} of {items.length}
            </span>
          </div>
          {shown.length === 0 ? (
            <p className="empty">No {filter} sessions.</p>
          ) : (
            <TableWrap label="Sessions table">
              <table className="data-table">
                <caption className="sr-only">Your sessions, newest first</caption>
                <thead>
                  <tr>
                    <th scope="col">Session</th>
                    <th scope="col">GPU</th>
                    <th scope="col">State</th>
                    <th scope="col">Time</th>
                    <th scope="col" className="num">
                      Price
                    </th>
                    <th scope="col" className="num">
                      Cost so far
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {shown.map((s) => (
                    <tr key={s.id}>
                      <td>
                        <Link to={`/sessions/${s.id}`}>Session {s.id}</Link>
                        <div className="muted">{s.provider}</div>
                      </td>
                      <td>
                        {s.gpu} × {s.gpu_count}
                        <div className="muted">{s.region ?? s.instance_type}</div>
                      </td>
                      <td>
                        <StateBadge state={s.state} />
                        {s.needs_attention ? <div className="field-problem">needs attention</div> : null}
                      </td>
                      <td>{LIVE_SESSION_STATES.includes(s.state) && s.state !== "ending" ? timeLeft(null, s.expires_at, now) : s.end_reason ? `ended: ${s.end_reason.replace("_", " ")}` : "—"}</td>
                      <td className="num">{money(s.price_per_hour)}/h</td>
                      <td className="num">{money(s.cost_so_far)}</td>
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
