// One of your machines: its agent (and a new agent token), earnings, status, terms and hours,
// blocked periods and the bookings calendar. Another user's machine is simply not found.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState, type FormEvent } from "react";
import { Link, useParams } from "react-router";

import { api } from "../api/client";
import { ApiError, describeError, unwrap } from "../api/errors";
import { count, money, percent } from "../app/format";
import { useToast } from "../app/toasts";
import { LoadError } from "../app/LoadError";
import { ConfirmDialog } from "../app/ConfirmDialog";
import { AgentCommand } from "./AgentCommand";
import { AgentStatus, MachineState, Throughput } from "./AgentStatus";
import { BlockedPeriods } from "./BlockedPeriods";
import { MachineFields } from "./MachineFields";
import { changes, fromMachine, validate, type FormErrors, type MachineForm } from "./machineForm";
import { MonthCalendar } from "./MonthCalendar";
import { HOST_KEY, useDashboard, useMachine } from "./queries";
import type { Machine } from "./types";
import "./host.css";

export function MachinePage() {
  const { machineId } = useParams();
  const id = Number(machineId);
  const machine = useMachine(id);
  const valid = Number.isSafeInteger(id) && id > 0;
  useEffect(() => {
    document.title = `${machine.data?.name ?? "Machine"} · Hosting · GP4U`;
  }, [machine.data?.name]);

  if (!valid || (machine.error instanceof ApiError && machine.error.status === 404)) {
    return (
      <section className="page narrow" aria-labelledby="machine-missing">
        <h1 id="machine-missing">Machine not found</h1>
        <p>
          You have no machine {valid ? `#${id}` : "at this address"}. <Link to="/host">Back to your machines</Link>
        </p>
      </section>
    );
  }
  if (machine.isPending) {
    return (
      <p className="page-status" role="status">
        Loading the machine…
      </p>
    );
  }
  if (machine.isError) {
    return (
      <section className="page narrow" aria-labelledby="machine-error">
        <h1 id="machine-error">Machine</h1>
        <LoadError what="the machine" error={machine.error} onRetry={() => void machine.refetch()} />
      </section>
    );
  }
  return <MachineView machine={machine.data} />;
}

function MachineView({ machine }: { machine: Machine }) {
  return (
    <section className="page host-page" aria-labelledby="machine-title">
      <div className="page-head">
        <div>
          <h1 id="machine-title">{machine.name}</h1>
          <p className="muted machine-sub">
            #{machine.id} · {machine.gpu_count} × {machine.gpu_raw_name} · {money(machine.price_per_hour)}/h · {machine.hours}
          </p>
        </div>
        <Link to="/host">All machines</Link>
      </div>
      <div className="host-columns">
        <AgentCard machine={machine} />
        <EarningsCard machine={machine} />
      </div>
      <StatusCard machine={machine} />
      <TermsForm key={machine.updated_at} machine={machine} />
      <section aria-labelledby="calendar-title" className="host-section">
        <h2 id="calendar-title">Calendar</h2>
        <BlockedPeriods machine={machine}>
          {(unblock) => <MonthCalendar machineId={machine.id} tz={machine.timezone} blockAction={unblock} />}
        </BlockedPeriods>
      </section>
    </section>
  );
}

function AgentCard({ machine }: { machine: Machine }) {
  const [confirming, setConfirming] = useState(false);
  const [token, setToken] = useState<string | null>(null);
  const client = useQueryClient();
  const toast = useToast();
  const renew = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/machines/{machine_id}/agent-token", { params: { path: { machine_id: machine.id } } })),
    onSuccess: (out) => {
      setToken(out.agent_token);
      setConfirming(false);
      void client.invalidateQueries({ queryKey: HOST_KEY });
      toast({ kind: "success", title: "New agent token made", detail: "The current agent is signed out; start it again with the new token." });
    },
    onError: (error) => toast({ kind: "error", title: "No new token was made", detail: describeError(error) }),
  });
  return (
    <section className="card host-section" aria-labelledby="agent-title">
      <h2 id="agent-title">Agent</h2>
      <AgentStatus agent={machine.agent} />
      <dl className="specs">
        <dt>Bookable</dt>
        <dd>{machine.bookable ? "Yes" : `No: ${machine.not_bookable_reason ?? "see its status"}`}</dd>
        <dt>Throughput</dt>
        <dd>
          <Throughput agent={machine.agent} />
        </dd>
        <dt>Registered</dt>
        <dd>{machine.agent.registered_at ? new Date(machine.agent.registered_at).toLocaleString() : "Not yet"}</dd>
      </dl>
      <button type="button" className="button" onClick={() => setConfirming(true)}>
        New agent token
      </button>
      {token ? <AgentCommand token={token} /> : null}
      {confirming ? (
        <ConfirmDialog
          title="Make a new agent token?"
          confirmLabel="Sign the agent out and make a token"
          busyLabel="Making…"
          busy={renew.isPending}
          onConfirm={() => renew.mutate()}
          onClose={() => setConfirming(false)}
        >
          <p>
            <strong>The agent running on {machine.name} now is signed out</strong>: its heartbeats are refused and the machine goes offline
            (not bookable) until an agent checks in with the new token.
          </p>
        </ConfirmDialog>
      ) : null}
    </section>
  );
}

function EarningsCard({ machine }: { machine: Machine }) {
  const dashboard = useDashboard();
  const use = dashboard.data?.machines.find((m) => m.machine_id === machine.id);
  return (
    <section className="card host-section" aria-labelledby="machine-earnings-title">
      <h2 id="machine-earnings-title">Earnings</h2>
      {dashboard.isPending ? (
        <p role="status">Loading…</p>
      ) : dashboard.isError ? (
        <p role="alert">Could not load the earnings: {describeError(dashboard.error)}</p>
      ) : !use ? (
        <p className="muted">No earnings yet.</p>
      ) : (
        <dl className="specs">
          <dt>Earned</dt>
          <dd>{money(use.earnings.net)}</dd>
          <dt>Paid by renters</dt>
          <dd>
            {money(use.earnings.gross)} (fee {money(use.earnings.platform_fee)})
          </dd>
          <dt>Pending</dt>
          <dd>{money(use.earnings.pending)}</dd>
          <dt>Upcoming bookings</dt>
          <dd>{count(use.upcoming_bookings)}</dd>
          <dt>Booked, last 30 days</dt>
          <dd>{percent(use.utilisation_30d)}</dd>
          <dt>Rentals</dt>
          <dd>
            {count(machine.rentals_completed)} completed, {count(machine.rentals_failed)} failed
          </dd>
        </dl>
      )}
    </section>
  );
}

const STATUS_HELP: Record<string, string> = {
  listed: "On the marketplace: renters can book it while its agent is online.",
  paused: "No new bookings; those already made still run.",
  retired: "Off the market for good (refused while bookings are upcoming).",
};

function StatusCard({ machine }: { machine: Machine }) {
  const [status, setStatus] = useState(machine.status);
  const [confirmRetire, setConfirmRetire] = useState(false);
  const client = useQueryClient();
  const toast = useToast();
  useEffect(() => setStatus(machine.status), [machine.status]);
  const save = useMutation({
    mutationFn: (next: "listed" | "paused" | "retired") =>
      unwrap(api.PATCH("/api/v1/machines/{machine_id}", { params: { path: { machine_id: machine.id } }, body: { status: next } })),
    onSuccess: (out) => {
      setConfirmRetire(false);
      client.setQueryData([...HOST_KEY, "machine", machine.id], out);
      void client.invalidateQueries({ queryKey: HOST_KEY });
      toast({ kind: "success", title: `${out.name} is ${out.status}` });
    },
    onError: (error) => {
      setConfirmRetire(false);
      setStatus(machine.status);
      toast({ kind: "error", title: "The status was not changed", detail: describeError(error) });
    },
  });
  const retired = machine.status === "retired";
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (status === "retired") setConfirmRetire(true);
    else save.mutate(status as "listed" | "paused");
  };
  return (
    <section className="card host-section" aria-labelledby="status-title">
      <h2 id="status-title">Status</h2>
      <MachineState status={machine.status} bookable={machine.bookable} reason={machine.not_bookable_reason} />
      <form className="status-form" onSubmit={submit}>
        <fieldset disabled={retired}>
          <legend className="sr-only">Machine status</legend>
          {(["listed", "paused", "retired"] as const).map((s) => (
            <label key={s} className="radio">
              <input type="radio" name="status" value={s} checked={status === s} onChange={() => setStatus(s)} />
              <span>
                <strong>{s.charAt(0).toUpperCase() + s.slice(1)}</strong> <span className="muted">{STATUS_HELP[s]}</span>
              </span>
            </label>
          ))}
        </fieldset>
        {!retired ? (
          <button type="submit" className="button" disabled={status === machine.status || save.isPending}>
            Change status
          </button>
        ) : null}
      </form>
      {confirmRetire ? (
        <ConfirmDialog
          title={`Retire ${machine.name}?`}
          confirmLabel="Retire for good"
          busyLabel="Retire for good"
          busy={save.isPending}
          onConfirm={() => save.mutate("retired")}
          onClose={() => {
            setConfirmRetire(false);
            setStatus(machine.status);
          }}
        >
          <p>A retired machine leaves the marketplace for good and cannot be listed again.</p>
        </ConfirmDialog>
      ) : null}
    </section>
  );
}

function TermsForm({ machine }: { machine: Machine }) {
  const original = fromMachine(machine);
  const [form, setForm] = useState<MachineForm>(original);
  const [errors, setErrors] = useState<FormErrors>({});
  const client = useQueryClient();
  const toast = useToast();
  const body = changes(form, original);
  const dirty = Object.keys(body).length > 0;
  const save = useMutation({
    mutationFn: () => unwrap(api.PATCH("/api/v1/machines/{machine_id}", { params: { path: { machine_id: machine.id } }, body })),
    onSuccess: (out) => {
      client.setQueryData([...HOST_KEY, "machine", machine.id], out);
      void client.invalidateQueries({ queryKey: HOST_KEY });
      toast({ kind: "success", title: "Changes saved", detail: `${money(out.price_per_hour)}/h · ${out.hours}. New terms apply to new bookings.` });
    },
    onError: (error) => {
      const field = error instanceof ApiError ? error.field : undefined;
      if (field) setErrors((current) => ({ ...current, [field]: describeError(error) }));
      toast({ kind: "error", title: "The changes were not saved", detail: describeError(error) });
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const found = validate(form);
    setErrors(found);
    if (Object.keys(found).length === 0) save.mutate();
  };
  return (
    <section className="host-section" aria-labelledby="terms-title">
      <h2 id="terms-title">Price, terms and hours</h2>
      <form className="host-form" onSubmit={submit} noValidate>
        <MachineFields form={form} errors={errors} onChange={(next) => setForm(next)} groups={["terms", "hours", "hardware"]} />
        <p className="muted">A cleared optional field keeps its current value.</p>
        <div className="actions">
          <button type="submit" className="button button-primary" disabled={!dirty || save.isPending || machine.status === "retired"}>
            {save.isPending ? "Saving…" : "Save changes"}
          </button>
          <button type="button" className="button button-quiet" disabled={!dirty} onClick={() => (setForm(original), setErrors({}))}>
            Undo changes
          </button>
          {Object.keys(errors).length ? (
            <span role="alert" className="field-error">
              Fix the fields marked above.
            </span>
          ) : null}
        </div>
      </form>
    </section>
  );
}

export default MachinePage;
