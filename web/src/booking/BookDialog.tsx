// Booking a host machine: a calendar of its free time, start and end to the minute, a live cost
// estimate against the wallet, a startup command, and the booking itself (POST
// /api/v1/reservations with an Idempotency-Key, so a retry never books twice). Refusals (time
// taken, not enough money, over budget) are shown in the dialog in words.
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useId, useMemo, useState } from "react";
import { Link } from "react-router";

import { api } from "../api/client";
import { ApiError, describeError, unwrap } from "../api/errors";
import { Dialog } from "../app/Dialog";
import { money } from "../app/format";
import { useIdempotencyKey } from "../app/idempotency";
import { useMediaQuery } from "../market/useMediaQuery";
import "./booking.css";
import { estimate } from "./estimate";
import { EstimateView } from "./EstimateView";
import { refusal, type Refusal } from "./moneyErrors";
import { KEYS, useWallet } from "./queries";
import { SlotCalendar, SlotLegend } from "./SlotCalendar";
import { addDays, buildDays, dayStart, freeRanges, fromLocalInput, MINUTE, pick, spanProblem, toLocalInput, weekStart, type Pick, type Range } from "./slots";
import type { Reservation } from "./types";

/** How far ahead of the shown week the free time is fetched (a booking may run past the week). */
const FETCH_DAYS = 28;
const NARROW = "(max-width: 640px)";

export interface BookDialogProps {
  machineId: number;
  /** What is being booked, e.g. "RTX 4090 · 24 GB × 1". */
  what: string;
  onClose: () => void;
  onBooked: (reservation: Reservation) => void;
}

export function BookDialog({ machineId, what, onClose, onBooked }: BookDialogProps) {
  const narrow = useMediaQuery(NARROW);
  const days = narrow ? 1 : 7;
  const client = useQueryClient();
  const ids = { start: useId(), end: useId(), command: useId(), problem: useId() };
  const [now] = useState(() => Date.now());
  const [anchor, setAnchor] = useState(() => dayStart(now));
  const first = days === 7 ? weekStart(anchor) : dayStart(anchor);
  const fetchFrom = weekStart(anchor);
  const [picked, setPicked] = useState<Pick>({ selection: null, phase: "start" });
  const [texts, setTexts] = useState({ start: "", end: "" });
  const [command, setCommand] = useState("");
  const [failure, setFailure] = useState<Refusal | null>(null);
  const idempotencyKey = useIdempotencyKey();

  const availability = useQuery({
    queryKey: KEYS.availability(machineId, fetchFrom),
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/v1/machines/{machine_id}/availability", {
          params: {
            path: { machine_id: machineId },
            query: { from: new Date(fetchFrom).toISOString(), to: new Date(addDays(fetchFrom, FETCH_DAYS)).toISOString(), granularity: 1 },
          },
          signal,
        }),
      ),
    placeholderData: keepPreviousData,
    staleTime: 15_000,
  });
  const wallet = useWallet();

  const machine = availability.data;
  const free = useMemo(() => freeRanges(machine?.free ?? []), [machine]);
  const grid = useMemo(() => buildDays(first, days, free, Date.now()), [first, days, free]);
  const minMinutes = Math.round((machine?.min_hours ?? 0) * 60);
  const span = picked.selection;
  const problem = machine ? spanProblem(span, free, minMinutes, Date.now()) : null;
  const minutes = span && span.end > span.start ? Math.round((span.end - span.start) / MINUTE) : 0;
  const quote = machine ? estimate(machine.price_per_hour, minutes, wallet.data) : null;

  const choose = (selection: Range | null, phase: Pick["phase"] = "start") => {
    setPicked({ selection, phase });
    setTexts(selection ? { start: toLocalInput(selection.start), end: toLocalInput(selection.end) } : { start: "", end: "" });
    setFailure(null);
  };

  const typed = (which: "start" | "end", value: string) => {
    const next = { ...texts, [which]: value };
    setTexts(next);
    setFailure(null);
    const start = fromLocalInput(next.start);
    const end = fromLocalInput(next.end);
    setPicked({ selection: start !== null && end !== null ? { start, end } : null, phase: "start" });
  };

  const book = useMutation({
    mutationFn: (body: { start: number; end: number }) =>
      unwrap(
        api.POST("/api/v1/reservations", {
          params: { header: { "idempotency-key": idempotencyKey.current } },
          body: {
            machine_id: machineId,
            start: new Date(body.start).toISOString(),
            end: new Date(body.end).toISOString(),
            startup_command: command.trim() || null,
          },
        }),
      ),
    onSuccess: (reservation) => {
      idempotencyKey.answered();
      void client.invalidateQueries({ queryKey: KEYS.reservations });
      void client.invalidateQueries({ queryKey: KEYS.wallet });
      void client.invalidateQueries({ queryKey: ["availability", machineId] });
      onBooked(reservation);
    },
    onError: (error) => {
      idempotencyKey.answered(error);
      if (error instanceof ApiError && error.code === "BookingConflict") {
        void client.invalidateQueries({ queryKey: ["availability", machineId] });
      }
      setFailure(refusal(error));
    },
  });

  const submit = () => {
    if (!span || problem) return;
    book.mutate(span);
  };

  const page = (direction: -1 | 1) => setAnchor((a) => addDays(a, direction * days));
  const firstShown = new Date(first).toLocaleDateString(undefined, { day: "numeric", month: "short", year: "numeric" });
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;

  return (
    <Dialog
      title={`Book ${what}`}
      onClose={onClose}
      className="book-dialog scroll-dialog"
      footer={
        <>
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button
            type="submit"
            form="book-form"
            className="button button-primary"
            disabled={book.isPending || !machine || !machine.bookable}
          >
            {book.isPending ? "Booking…" : quote && minutes > 0 ? `Book and hold ${money(quote.held)}` : "Book"}
          </button>
        </>
      }
    >
      {availability.isPending ? <p role="status">Loading the machine's free time…</p> : null}
      {availability.isError ? (
        <p className="form-error" role="alert">
          Could not load the machine's free time: {describeError(availability.error)}{" "}
          <button type="button" className="button button-quiet" onClick={() => void availability.refetch()}>
            Try again
          </button>
        </p>
      ) : null}
      {machine ? (
        <form
          id="book-form"
          className="book-form"
          noValidate
          onSubmit={(event) => {
            event.preventDefault();
            submit();
          }}
        >
          {!machine.bookable ? (
            <p className="notice notice-stale" role="alert">
              This machine cannot be booked now: {machine.not_bookable_reason ?? "it is not available"}.
            </p>
          ) : null}
          <p className="muted">
            Machine {machine.machine_id} · {money(machine.price_per_hour)} per hour
            {minMinutes > 0 ? ` · at least ${machine.min_hours} h` : ""} · hours: {machine.hours}. Times are in your time zone ({zone}).
          </p>
          <div className="slot-toolbar">
            <button type="button" className="button" onClick={() => page(-1)} disabled={addDays(first, days) <= now}>
              ← {days === 7 ? "Previous week" : "Previous day"}
            </button>
            <span className="slot-period" aria-live="polite">
              {days === 7 ? `Week of ${firstShown}` : new Date(first).toLocaleDateString(undefined, { weekday: "long", day: "numeric", month: "short" })}
              {availability.isFetching ? " · updating…" : ""}
            </span>
            <button type="button" className="button" onClick={() => page(1)}>
              {days === 7 ? "Next week" : "Next day"} →
            </button>
          </div>
          <SlotCalendar
            days={grid}
            selection={span}
            label={`Free time of machine ${machine.machine_id}: pick a start, then an end. Page Up and Page Down change the ${days === 7 ? "week" : "day"}.`}
            onPick={(cell) => {
              const next = pick(picked, cell, free, minMinutes);
              if (next !== picked) choose(next.selection, next.phase);
            }}
            onPage={page}
          />
          <SlotLegend />
          <p className="sr-only" aria-live="polite">
            {span ? `Chosen: ${describeSpan(span)}. ${picked.phase === "end" ? "Now pick the end." : ""}` : ""}
          </p>
          <p className="muted slot-hint">{picked.phase === "end" ? "Now pick the last hour of your booking, or adjust the times below." : "Pick the first hour of your booking."}</p>
          <div className="field-row">
            <label className="field" htmlFor={ids.start}>
              <span>Start</span>
              <input
                id={ids.start}
                type="datetime-local"
                step={60}
                value={texts.start}
                min={toLocalInput(Math.ceil(now / MINUTE) * MINUTE)}
                onChange={(e) => typed("start", e.target.value)}
                aria-describedby={ids.problem}
                aria-invalid={problem !== null && span !== null}
              />
            </label>
            <label className="field" htmlFor={ids.end}>
              <span>End</span>
              <input
                id={ids.end}
                type="datetime-local"
                step={60}
                value={texts.end}
                min={texts.start || undefined}
                onChange={(e) => typed("end", e.target.value)}
                aria-describedby={ids.problem}
                aria-invalid={problem !== null && span !== null}
              />
            </label>
          </div>
          <p id={ids.problem} className={problem && span ? "field-problem" : "muted"}>
            {problem ?? `Chosen: ${describeSpan(span!)}.`}
          </p>
          <label className="field" htmlFor={ids.command}>
            <span>Startup command (optional)</span>
            <textarea
              id={ids.command}
              rows={3}
              maxLength={16000}
              value={command}
              onChange={(e) => setCommand(e.target.value)}
              placeholder="python train.py --epochs 10"
            />
            <small>Runs on the machine when your booking starts.</small>
          </label>
          <EstimateView
            estimate={quote}
            pricePerHour={machine.price_per_hour}
            walletState={wallet.isPending ? "pending" : wallet.isError ? "error" : "ready"}
            note="The whole booking is held on your wallet now. At the start the host is paid as time passes; cancel before the start for a full refund, after it you pay for the minutes started."
          />
          {failure ? <FailureView failure={failure} /> : null}
        </form>
      ) : null}
    </Dialog>
  );
}

export function describeSpan(span: Range): string {
  const day = (t: number) => new Date(t).toLocaleDateString(undefined, { weekday: "short", day: "numeric", month: "short" });
  const time = (t: number) => new Date(t).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
  const sameDay = dayStart(span.start) === dayStart(span.end - 1);
  return sameDay ? `${day(span.start)} ${time(span.start)}–${time(span.end)}` : `${day(span.start)} ${time(span.start)} – ${day(span.end)} ${time(span.end)}`;
}

export function FailureView({ failure }: { failure: Refusal }) {
  return (
    <div className="form-error" role="alert">
      <strong>{failure.title}</strong>
      <p>{failure.detail}</p>
      {failure.fix ? <Link to={failure.fix.to}>{failure.fix.label}</Link> : null}
    </div>
  );
}
