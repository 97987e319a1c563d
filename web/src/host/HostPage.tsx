// Hosting: the owner's dashboard. Earnings (pending, available, paid out) with a payout action
// and its history, every machine with its status, agent, price and upcoming bookings, and the
// bookings to come; with no machine yet, how to list the first one.
import { useEffect, useState } from "react";
import { Link } from "react-router";

import { ApiError, describeError } from "../api/errors";
import { count, dateTime, money } from "../app/format";
import { LoadError } from "../app/LoadError";
import { AgentStatus, MachineState, Throughput } from "./AgentStatus";
import { PayoutDialog } from "./PayoutDialog";
import { useDashboard } from "./queries";
import type { Booking, Dashboard, MachineUse } from "./types";
import "./host.css";

export function HostPage() {
  const dashboard = useDashboard();
  const [payingOut, setPayingOut] = useState(false);
  useEffect(() => {
    document.title = "Hosting · GP4U";
  }, []);

  return (
    <section className="page host-page" aria-labelledby="host-title">
      <div className="page-head">
        <h1 id="host-title">Hosting</h1>
        {dashboard.data ? (
          <Link className="button button-primary" to="/host/machines/new">
            List a machine
          </Link>
        ) : null}
      </div>
      {dashboard.isPending ? (
        <p className="page-status" role="status">
          Loading your machines…
        </p>
      ) : dashboard.isError ? (
        <HostError error={dashboard.error} retry={() => void dashboard.refetch()} />
      ) : (
        <>
          <Earnings dashboard={dashboard.data} onPayout={() => setPayingOut(true)} />
          {dashboard.data.machines.length === 0 ? <FirstMachine /> : <Machines machines={dashboard.data.machines} />}
          <Upcoming bookings={dashboard.data.upcoming} machines={dashboard.data.machines} />
          <Payouts payouts={dashboard.data.payouts} />
          {payingOut ? <PayoutDialog available={dashboard.data.earnings.available} onClose={() => setPayingOut(false)} /> : null}
        </>
      )}
    </section>
  );
}

function HostError({ error, retry }: { error: Error; retry: () => void }) {
  if (error instanceof ApiError && error.status === 403) {
    return (
      <div className="card" role="status">
        <h2>Hosting needs the host role</h2>
        <p>
          Your account can rent GPUs but not list machines. Sign up with the host role, or ask an administrator to add it to your
          account.
        </p>
        <p className="muted">{describeError(error)}</p>
      </div>
    );
  }
  return (
    <LoadError what="your machines" error={error} onRetry={retry} />
  );
}

function Earnings({ dashboard, onPayout }: { dashboard: Dashboard; onPayout: () => void }) {
  const e = dashboard.earnings;
  return (
    <section aria-labelledby="earnings-title" className="host-section">
      <h2 id="earnings-title">Earnings</h2>
      <div className="cards">
        <div className="card stat">
          <span className="stat-label">Pending</span>
          <span className="stat-value">{money(e.pending)}</span>
          <small className="muted">Held for bookings not yet run (before the fee)</small>
        </div>
        <div className="card stat">
          <span className="stat-label">Available</span>
          <span className="stat-value">{money(e.available)}</span>
          <small className="muted">Earned, not yet paid out</small>
        </div>
        <div className="card stat">
          <span className="stat-label">Paid out</span>
          <span className="stat-value">{money(e.paid_out)}</span>
          <small className="muted">Settled payouts</small>
        </div>
        <div className="card stat">
          <span className="stat-label">Earned in total</span>
          <span className="stat-value">{money(e.net)}</span>
          <small className="muted">
            {money(e.gross)} paid by renters, less {money(e.platform_fee)} platform fee
          </small>
        </div>
      </div>
      <div className="actions">
        <button type="button" className="button" onClick={onPayout} disabled={e.available <= 0} aria-describedby="payout-hint">
          Pay out
        </button>
        <span id="payout-hint" className="muted">
          {e.available > 0 ? `Up to ${money(e.available)} can be paid out now.` : "Nothing to pay out yet."}
        </span>
      </div>
    </section>
  );
}

function FirstMachine() {
  return (
    <section aria-labelledby="first-title" className="card host-section host-empty">
      <h2 id="first-title">List your first machine</h2>
      <ol>
        <li>
          <Link to="/host/machines/new">List the machine</Link>: its GPUs, price per hour and the hours renters may book it.
        </li>
        <li>
          Run the <code>gp4u agent host</code> command you get on the machine: it checks the GPUs in and keeps the machine online.
        </li>
        <li>Once the agent is online and sees the listed GPUs, renters can find and book it on the marketplace.</li>
      </ol>
    </section>
  );
}

function Machines({ machines }: { machines: MachineUse[] }) {
  return (
    <section aria-labelledby="machines-title" className="host-section">
      <h2 id="machines-title">Your machines</h2>
      <div className="table-wrap">
        <table className="data-table host-machines">
          <caption className="sr-only">Your machines with their status, agent, price and bookings</caption>
          <thead>
            <tr>
              <th scope="col">Machine</th>
              <th scope="col">Status</th>
              <th scope="col">Agent</th>
              <th scope="col">Measured throughput</th>
              <th scope="col" className="num">
                Price / h
              </th>
              <th scope="col" className="num">
                Upcoming
              </th>
              <th scope="col" className="num">
                Earned
              </th>
            </tr>
          </thead>
          <tbody>
            {machines.map((m) => (
              <tr key={m.machine_id}>
                <td>
                  <Link to={`/host/machines/${m.machine_id}`}>{m.name}</Link>
                  <div className="row-sub muted">{m.gpu_summary}</div>
                </td>
                <td>
                  <MachineState status={m.status} bookable={m.bookable} reason={m.not_bookable_reason} />
                </td>
                <td>
                  <AgentStatus agent={m.agent} />
                </td>
                <td>
                  <Throughput agent={m.agent} />
                </td>
                <td className="num">{money(m.price_per_hour)}</td>
                <td className="num">{count(m.upcoming_bookings)}</td>
                <td className="num">
                  {money(m.earnings.net)}
                  {m.earnings.pending > 0 ? <div className="row-sub muted">+{money(m.earnings.pending)} pending</div> : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function Upcoming({ bookings, machines }: { bookings: Booking[]; machines: MachineUse[] }) {
  const names = new Map(machines.map((m) => [m.machine_id, m.name]));
  return (
    <section aria-labelledby="upcoming-title" className="host-section">
      <h2 id="upcoming-title">Upcoming bookings</h2>
      {bookings.length === 0 ? (
        <p className="muted">No bookings to come.</p>
      ) : (
        <div className="table-wrap">
          <table className="data-table">
            <thead>
              <tr>
                <th scope="col">Reservation</th>
                <th scope="col">Machine</th>
                <th scope="col">From</th>
                <th scope="col">Until</th>
                <th scope="col">State</th>
                <th scope="col" className="num">
                  Price / h
                </th>
              </tr>
            </thead>
            <tbody>
              {bookings.map((b) => (
                <tr key={b.reservation_id}>
                  <td>#{b.reservation_id}</td>
                  <td>
                    <Link to={`/host/machines/${b.machine_id}`}>{names.get(b.machine_id) ?? `Machine ${b.machine_id}`}</Link>
                  </td>
                  <td>{dateTime(b.start)}</td>
                  <td>{dateTime(b.end)}</td>
                  <td>
                    <span className={`state ${b.state === "active" ? "state-good" : ""}`}>{b.state}</span>
                  </td>
                  <td className="num">{money(b.price_per_hour)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

interface PayoutRow {
  id: number;
  amount: number;
  rail: string;
  status: string;
  failure_reason: string | null;
  created_at: string;
  settled_at: string | null;
}

function Payouts({ payouts }: { payouts: Record<string, unknown>[] }) {
  const rows = payouts as unknown as PayoutRow[];
  return (
    <section aria-labelledby="payouts-title" className="host-section">
      <h2 id="payouts-title">Payout history</h2>
      {rows.length === 0 ? (
        <p className="muted">No payouts yet.</p>
      ) : (
        <div className="table-wrap">
          <table className="data-table">
            <thead>
              <tr>
                <th scope="col">Requested</th>
                <th scope="col" className="num">
                  Amount
                </th>
                <th scope="col">Rail</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((p) => (
                <tr key={p.id}>
                  <td>{dateTime(p.created_at)}</td>
                  <td className="num">{money(p.amount)}</td>
                  <td>{p.rail}</td>
                  <td>
                    <span className={`state ${p.status === "settled" ? "state-good" : p.status === "failed" ? "state-bad" : "state-warn"}`}>
                      {p.status}
                    </span>
                    {p.failure_reason ? <div className="row-sub muted">{p.failure_reason}</div> : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

export default HostPage;
