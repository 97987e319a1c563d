// One reservation: state, start and end, time left (or until the start), the machine, the
// money (quote, held, paid to the host, refunded), its session once active; extend (a later
// end, if free, the difference held) and cancel (what comes back is shown first). Another
// user's reservation answers 404 and shows a not-found view.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useState } from "react";
import { Link, useParams } from "react-router";

import { api } from "../api/client";
import { unwrap } from "../api/errors";
import { dateTime, gpuLabel, money, place } from "../app/format";
import { useToast } from "../app/toasts";
import { LoadError } from "../app/LoadError";
import { ConfirmDialog } from "../app/ConfirmDialog";
import { FailureView } from "./BookDialog";
import { cancelRefund, costMicros, duration, estimate, toDollars } from "./estimate";
import { HoldDialog } from "./HoldDialog";
import { refusal, type Refusal } from "./moneyErrors";
import { NotFoundView, StateBadge, timeLeft, useNow } from "./parts";
import { isNotFound, KEYS, OPEN_RESERVATION_STATES, useMachineOffer, useReservation, useWallet } from "./queries";
import { fromLocalInput, MINUTE, toLocalInput } from "./slots";
import type { Reservation } from "./types";
import "./booking.css";

const STATE_TEXT: Record<Reservation["state"], string> = {
  pending: "Booked: the whole booking is held on your wallet until it starts.",
  active: "Running now: the host is paid for the time as it passes.",
  completed: "Completed: the host was paid and the rest of the hold came back.",
  cancelled: "Cancelled: what was not used came back to your wallet.",
  failed: "Failed: you paid only for time the machine actually ran.",
};

/** What came back to the wallet once a reservation ended: the booked quote less what was paid. */
function refunded(r: Reservation): number | null {
  if (OPEN_RESERVATION_STATES.includes(r.state)) return null;
  return Math.max(0, toDollars(Math.round(r.quote * 1e6) - Math.round(r.paid * 1e6)));
}

export function ReservationPage() {
  const id = Number(useParams().reservationId);
  const valid = Number.isInteger(id) && id > 0;
  const reservation = useReservation(valid ? id : 0);
  const offer = useMachineOffer(reservation.data?.machine_id);
  const now = useNow(15_000);
  const [dialog, setDialog] = useState<"extend" | "cancel" | null>(null);

  useEffect(() => {
    document.title = `Reservation ${id} · GP4U`;
  }, [id]);

  if (!valid || isNotFound(reservation.error)) {
    return <NotFoundView what="Reservation" back="/reservations" backLabel="Back to my reservations" />;
  }
  if (reservation.isPending) {
    return (
      <p className="page-status" role="status">
        Loading reservation {id}…
      </p>
    );
  }
  if (reservation.isError) {
    return (
      <section className="page" aria-labelledby="reservation-title">
        <h1 id="reservation-title">Reservation {id}</h1>
        <LoadError what="this reservation" error={reservation.error} onRetry={() => void reservation.refetch()} />
      </section>
    );
  }

  const r = reservation.data;
  const open = OPEN_RESERVATION_STATES.includes(r.state);
  const byCluster = r.cluster_id !== null;
  const back = refunded(r);
  const machine = offer.data;
  return (
    <section className="page booking-page" aria-labelledby="reservation-title">
      <Link className="back-link" to="/reservations">
        ← My reservations
      </Link>
      <div className="page-head">
        <div className="detail-head">
          <h1 id="reservation-title">Reservation {r.id}</h1>
          <StateBadge state={r.state} />
        </div>
        {open && !byCluster ? (
          <div className="actions">
            <button type="button" className="button" onClick={() => setDialog("extend")}>
              Extend
            </button>
            <button type="button" className="button button-danger" onClick={() => setDialog("cancel")}>
              Cancel reservation
            </button>
          </div>
        ) : null}
      </div>
      <p>{STATE_TEXT[r.state]}</p>
      {byCluster ? (
        <p className="notice">
          Booked by <Link to={`/clusters/${r.cluster_id}`}>cluster {r.cluster_id}</Link> for one of its members: the cluster pays for it and manages it.
        </p>
      ) : null}
      <div className="cards">
        <div className="card stat">
          <span className="stat-label">{open ? "Time" : "Duration"}</span>
          <span className="stat-value">{open ? timeLeft(r.start, r.end, now) : duration(r.hours * 60)}</span>
        </div>
        <div className="card stat">
          <span className="stat-label">Quote</span>
          <span className="stat-value">{money(r.quote)}</span>
        </div>
        <div className="card stat">
          <span className="stat-label">Held now</span>
          <span className="stat-value">{money(r.held)}</span>
        </div>
        <div className="card stat">
          <span className="stat-label">Paid to the host</span>
          <span className="stat-value">{money(r.paid)}</span>
        </div>
        {back !== null ? (
          <div className="card stat">
            <span className="stat-label">Refunded</span>
            <span className="stat-value" data-testid="refunded">
              {money(back)}
            </span>
          </div>
        ) : null}
      </div>
      <div className="detail-grid">
        <section className="card" aria-labelledby="when-title">
          <h2 id="when-title">When</h2>
          <dl className="specs">
            <dt>Start</dt>
            <dd>{dateTime(r.start)}</dd>
            <dt>End</dt>
            <dd>{dateTime(r.end)}</dd>
            <dt>Length</dt>
            <dd>{duration(r.hours * 60)}</dd>
            <dt>Booked</dt>
            <dd>{dateTime(r.created_at)}</dd>
            {r.extensions ? (
              <>
                <dt>Extended</dt>
                <dd>
                  {r.extensions} time{r.extensions === 1 ? "" : "s"}
                </dd>
              </>
            ) : null}
            {r.activated_at ? (
              <>
                <dt>Started</dt>
                <dd>{dateTime(r.activated_at)}</dd>
              </>
            ) : null}
            {r.ended_at ? (
              <>
                <dt>Ended</dt>
                <dd>
                  {dateTime(r.ended_at)}
                  {r.end_reason ? ` (${r.end_reason.replace("_", " ")}${r.end_detail ? `: ${r.end_detail}` : ""})` : ""}
                </dd>
              </>
            ) : null}
            {r.session_id !== null ? (
              <>
                <dt>Session</dt>
                <dd>
                  <Link to={`/sessions/${r.session_id}`}>Session {r.session_id}</Link>
                </dd>
              </>
            ) : null}
          </dl>
        </section>
        <section className="card" aria-labelledby="machine-title">
          <h2 id="machine-title">Machine {r.machine_id}</h2>
          <dl className="specs">
            <dt>GPU</dt>
            <dd>{machine ? `${gpuLabel(machine)} × ${machine.gpu_count}` : offer.isPending ? "loading…" : "—"}</dd>
            <dt>Place</dt>
            <dd>{machine ? place(machine) : "—"}</dd>
            <dt>Price</dt>
            <dd>{money(r.price_per_hour)} per hour (fixed at booking)</dd>
            {machine ? (
              <>
                <dt>Offer</dt>
                <dd>
                  <Link to={`/?q=source%3Dhost&offer=${machine.id}`}>Offer {machine.id} in the marketplace</Link>
                </dd>
              </>
            ) : null}
          </dl>
        </section>
      </div>
      {dialog === "extend" ? <ExtendReservation reservation={r} onClose={() => setDialog(null)} /> : null}
      {dialog === "cancel" ? <CancelReservation reservation={r} onClose={() => setDialog(null)} /> : null}
    </section>
  );
}

function ExtendReservation({ reservation: r, onClose }: { reservation: Reservation; onClose: () => void }) {
  const inputId = useId();
  const currentEnd = Date.parse(r.end);
  const [text, setText] = useState(() => toLocalInput(currentEnd + 60 * MINUTE));
  const [failure, setFailure] = useState<Refusal | null>(null);
  const wallet = useWallet();
  const client = useQueryClient();
  const toast = useToast();
  const end = fromLocalInput(text);
  const problem = end === null ? "Enter the new end." : end <= currentEnd ? `The new end must be after ${dateTime(r.end)}.` : null;
  const start = Date.parse(r.start);
  const oldMinutes = Math.round((currentEnd - start) / MINUTE);
  const newMinutes = end === null ? oldMinutes : Math.round((end - start) / MINUTE);
  // The difference of the two quotes at the booked price (as the server holds it).
  const extraMicros = problem ? 0 : costMicros(r.price_per_hour, newMinutes) - costMicros(r.price_per_hour, oldMinutes);
  const quote = problem ? null : { ...estimate(r.price_per_hour, newMinutes - oldMinutes, wallet.data), held: toDollars(extraMicros) };
  if (quote && quote.available !== null) {
    quote.availableAfter = quote.available - quote.held;
    quote.problem = quote.held > quote.available ? "insufficient_funds" : quote.budgetLeft !== null && quote.held > quote.budgetLeft ? "over_budget" : null;
  }
  const extend = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/api/v1/reservations/{reservation_id}/extend", {
          params: { path: { reservation_id: r.id } },
          body: { end: new Date(end!).toISOString() },
        }),
      ),
    onSuccess: (updated) => {
      client.setQueryData(KEYS.reservation(r.id), updated);
      void client.invalidateQueries({ queryKey: KEYS.reservations });
      void client.invalidateQueries({ queryKey: KEYS.wallet });
      toast({ kind: "success", title: `Reservation ${r.id} extended`, detail: `Now ends ${dateTime(updated.end)}.` });
      onClose();
    },
    onError: (error) => setFailure(refusal(error)),
  });
  return (
    <HoldDialog
      title={`Extend reservation ${r.id}`}
      action="Extend"
      busyLabel="Extending…"
      busy={extend.isPending}
      quote={quote}
      pricePerHour={r.price_per_hour}
      wallet={wallet}
      note="The extra time is held now at the price you booked."
      failure={failure}
      onSubmit={() => {
        setFailure(null);
        if (!problem) extend.mutate();
      }}
      onClose={onClose}
    >
      <p className="muted">Now ends {dateTime(r.end)}. The time after it must be free on the machine.</p>
      <label className="field" htmlFor={inputId}>
        <span>New end</span>
        <input
          id={inputId}
          type="datetime-local"
          step={60}
          min={toLocalInput(currentEnd + MINUTE)}
          value={text}
          onChange={(e) => {
            setText(e.target.value);
            setFailure(null);
          }}
          aria-invalid={problem !== null}
        />
        {problem ? <small className="field-problem">{problem}</small> : null}
      </label>
    </HoldDialog>
  );
}

function CancelReservation({ reservation: r, onClose }: { reservation: Reservation; onClose: () => void }) {
  const client = useQueryClient();
  const toast = useToast();
  const [failure, setFailure] = useState<Refusal | null>(null);
  const [now] = useState(() => Date.now());
  const refund = cancelRefund(r, now);
  const started = r.state === "active";
  const cancel = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/reservations/{reservation_id}/cancel", { params: { path: { reservation_id: r.id } } })),
    onSuccess: (updated) => {
      client.setQueryData(KEYS.reservation(r.id), updated);
      void client.invalidateQueries({ queryKey: KEYS.reservations });
      void client.invalidateQueries({ queryKey: KEYS.wallet });
      void client.invalidateQueries({ queryKey: ["availability", r.machine_id] });
      const back = refunded(updated) ?? 0;
      toast({ kind: "success", title: `Reservation ${r.id} cancelled`, detail: `${money(back)} is back in your wallet.` });
      onClose();
    },
    onError: (error) => setFailure(refusal(error)),
  });
  return (
    <ConfirmDialog
      title={`Cancel reservation ${r.id}?`}
      confirmLabel="Cancel reservation"
      busyLabel="Cancelling…"
      cancelLabel="Keep it"
      busy={cancel.isPending}
      onConfirm={() => cancel.mutate()}
      onClose={onClose}
    >
      <p>
        {started
          ? "It has started: you pay for the minutes started so far, the session on the machine ends, and the rest comes back."
          : "It has not started yet: everything held for it comes back."}
      </p>
      <dl className="specs">
        <dt>Held now</dt>
        <dd>{money(r.held)}</dd>
        <dt>Comes back</dt>
        <dd>
          <strong data-testid="cancel-refund">{money(refund)}</strong>
          {started ? " (about: the exact minutes count when you confirm)" : ""}
        </dd>
      </dl>
      {failure ? <FailureView failure={failure} /> : null}
    </ConfirmDialog>
  );
}
