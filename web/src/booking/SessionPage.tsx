// One session: its state (refreshing itself while starting, running or ending), time left, cost
// so far, how to connect (the SSH command with a copy button; a generated private key once, right
// after the launch), extend (pay for more time) and shut down (with confirmation). Another
// user's session answers 404 and shows a not-found view.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useState } from "react";
import { Link, useLocation, useParams } from "react-router";

import { api } from "../api/client";
import { unwrap } from "../api/errors";
import { dateTime, money } from "../app/format";
import { useToast } from "../app/toasts";
import { FailureView } from "./BookDialog";
import { estimate, launchMinutes } from "./estimate";
import { HoldDialog } from "./HoldDialog";
import { refusal, type Refusal } from "./moneyErrors";
import { CopyButton } from "../app/CopyButton";
import { TableWrap } from "../app/TableWrap";
import { LoadError } from "../app/LoadError";
import { ConfirmDialog } from "../app/ConfirmDialog";
import { NotFoundView, StateBadge, timeLeft, useNow } from "./parts";
import { isNotFound, KEYS, LIVE_SESSION_STATES, useSession, useWallet } from "./queries";
import type { Session } from "./types";
import "./booking.css";

const STATE_TEXT: Record<Session["state"], string> = {
  provisioning: "Asking the provider for a machine…",
  starting: "The machine exists; waiting for its GP4U agent to check in. Billing starts then.",
  running: "Running and billed per started minute.",
  ending: "Billing has stopped; GP4U is destroying the machine and confirming it is gone.",
  terminated: "Ended: the provider confirmed the machine gone.",
  failed: "Never ran: nothing was charged for running time.",
};

export function SessionPage() {
  const id = Number(useParams().sessionId);
  const valid = Number.isInteger(id) && id > 0;
  const session = useSession(valid ? id : 0);
  const now = useNow(15_000);
  const location = useLocation();
  const privateKey = (location.state as { privateKey?: string | null } | null)?.privateKey ?? null;
  const [dialog, setDialog] = useState<"extend" | "stop" | null>(null);

  useEffect(() => {
    document.title = `Session ${id} · GP4U`;
  }, [id]);

  if (!valid || isNotFound(session.error)) return <NotFoundView what="Session" back="/sessions" backLabel="Back to my sessions" />;
  if (session.isPending) {
    return (
      <p className="page-status" role="status">
        Loading session {id}…
      </p>
    );
  }
  if (session.isError) {
    return (
      <section className="page" aria-labelledby="session-title">
        <h1 id="session-title">Session {id}</h1>
        <LoadError what="this session" error={session.error} onRetry={() => void session.refetch()} />
      </section>
    );
  }

  const s = session.data;
  const live = LIVE_SESSION_STATES.includes(s.state) && s.state !== "ending";
  return (
    <section className="page booking-page" aria-labelledby="session-title">
      <Link className="back-link" to="/sessions">
        ← My sessions
      </Link>
      <div className="page-head">
        <div className="detail-head">
          <h1 id="session-title">
            Session {s.id}: {s.gpu} × {s.gpu_count}
          </h1>
          <StateBadge state={s.state} />
        </div>
        {live ? (
          <div className="actions">
            <button type="button" className="button" onClick={() => setDialog("extend")}>
              Extend
            </button>
            <button type="button" className="button button-danger" onClick={() => setDialog("stop")}>
              Shut down
            </button>
          </div>
        ) : null}
      </div>
      <p role="status" aria-live="polite">
        {STATE_TEXT[s.state]}
        {session.isFetching && LIVE_SESSION_STATES.includes(s.state) ? <span className="muted"> · refreshing</span> : null}
      </p>
      {s.needs_attention ? (
        <p className="notice notice-stale">GP4U could not yet confirm this machine destroyed at {s.provider}; an operator has been alerted and it keeps trying.</p>
      ) : null}
      {privateKey ? <PrivateKey value={privateKey} sessionId={s.id} /> : null}
      <div className="cards">
        <div className="card stat">
          <span className="stat-label">Time left</span>
          <span className="stat-value">{live ? timeLeft(null, s.expires_at, now) : "—"}</span>
        </div>
        <div className="card stat">
          <span className="stat-label">Cost so far</span>
          <span className="stat-value">{money(s.cost_so_far)}</span>
        </div>
        <div className="card stat">
          <span className="stat-label">Price</span>
          <span className="stat-value">{money(s.price_per_hour)}/h</span>
        </div>
        <div className="card stat">
          <span className="stat-label">Paid time</span>
          <span className="stat-value">{Number(s.paid_hours.toFixed(2))} h</span>
        </div>
      </div>
      <div className="detail-grid">
        <section className="card" aria-labelledby="connect-title">
          <h2 id="connect-title">Connect</h2>
          {s.connection ? (
            <>
              <div className="ssh-command">
                <code aria-label="SSH command">{s.connection.command}</code>
                <CopyButton text={s.connection.command} what="the SSH command" />
              </div>
              <dl className="specs">
                <dt>Host</dt>
                <dd className="break">{s.connection.host}</dd>
                <dt>Port</dt>
                <dd>{s.connection.port ?? "22"}</dd>
                <dt>User</dt>
                <dd>{s.connection.user ?? "—"}</dd>
                <dt>Key</dt>
                <dd className="break">{s.ssh_fingerprint ?? "none given"}</dd>
              </dl>
            </>
          ) : (
            <p className="muted">{live ? "Connection details appear once the machine is up." : "No connection: this session is not running."}</p>
          )}
        </section>
        <section className="card" aria-labelledby="details-title">
          <h2 id="details-title">Details</h2>
          <dl className="specs">
            <dt>Provider</dt>
            <dd>{s.provider}</dd>
            <dt>Instance</dt>
            <dd className="break">{s.instance_type}</dd>
            <dt>Region</dt>
            <dd>{s.region ?? "—"}</dd>
            <dt>Image</dt>
            <dd className="break">{s.image}</dd>
            <dt>Offer</dt>
            <dd>
              <Link to={`/?offer=${s.offer_id}`}>Offer {s.offer_id}</Link>
            </dd>
            <dt>Launched</dt>
            <dd>{dateTime(s.created_at)}</dd>
            <dt>Running since</dt>
            <dd>{s.running_at ? dateTime(s.running_at) : "—"}</dd>
            <dt>Paid until</dt>
            <dd>{dateTime(s.expires_at)}</dd>
            <dt>Destroyed by</dt>
            <dd>{dateTime(s.hard_deadline)} at the latest</dd>
            {s.ending_at ? (
              <>
                <dt>Billing stopped</dt>
                <dd>{dateTime(s.ending_at)}</dd>
              </>
            ) : null}
            {s.destroyed_at ? (
              <>
                <dt>Destroyed</dt>
                <dd>{dateTime(s.destroyed_at)}</dd>
              </>
            ) : null}
            {s.end_reason ? (
              <>
                <dt>Ended</dt>
                <dd>
                  {s.end_reason.replace("_", " ")}
                  {s.end_detail ? `: ${s.end_detail}` : ""}
                </dd>
              </>
            ) : null}
            {s.env_keys.length ? (
              <>
                <dt>Environment</dt>
                <dd className="break">{s.env_keys.join(", ")}</dd>
              </>
            ) : null}
          </dl>
        </section>
      </div>
      {s.attempts.length ? <Attempts session={s} /> : null}
      {dialog === "extend" ? <ExtendSession session={s} onClose={() => setDialog(null)} /> : null}
      {dialog === "stop" ? <StopSession session={s} onClose={() => setDialog(null)} /> : null}
    </section>
  );
}

function PrivateKey({ value, sessionId }: { value: string; sessionId: number }) {
  const href = `data:application/x-pem-file;charset=utf-8,${encodeURIComponent(value)}`;
  return (
    <section className="card private-key" aria-labelledby="key-title">
      <h2 id="key-title">Your private key (shown once)</h2>
      <p>GP4U does not keep it: save it now. Leaving this page hides it for good.</p>
      <pre tabIndex={0} aria-label="Private key">
        {value}
      </pre>
      <div className="actions">
        <CopyButton text={value} what="the private key" />
        <a className="button" href={href} download={`gp4u-session-${sessionId}.pem`}>
          Download
        </a>
      </div>
    </section>
  );
}

function Attempts({ session }: { session: Session }) {
  return (
    <section aria-labelledby="attempts-title">
      <h2 id="attempts-title">Launch attempts</h2>
      {session.launch_summary ? <p className="muted">{session.launch_summary}</p> : null}
      <TableWrap label="Launch attempts table">
        <table className="data-table">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Offer</th>
              <th scope="col">Provider</th>
              <th scope="col" className="num">
                Price
              </th>
              <th scope="col">Outcome</th>
            </tr>
          </thead>
          <tbody>
            {session.attempts.map((a) => (
              <tr key={a.n}>
                <td>{a.n}</td>
                <td>
                  {a.gpu} (offer {a.offer_id})
                </td>
                <td>{a.provider}</td>
                <td className="num">{a.price_per_hour === null || a.price_per_hour === undefined ? "—" : `${money(a.price_per_hour)}/h`}</td>
                <td>
                  {a.outcome.replace("_", " ")}
                  {a.reason ? <div className="muted">{a.reason}</div> : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableWrap>
    </section>
  );
}

function ExtendSession({ session, onClose }: { session: Session; onClose: () => void }) {
  const inputId = useId();
  const [hours, setHours] = useState("1");
  const [failure, setFailure] = useState<Refusal | null>(null);
  const wallet = useWallet();
  const client = useQueryClient();
  const toast = useToast();
  const parsed = Number(hours);
  const problem = !Number.isFinite(parsed) || parsed <= 0 ? "Enter the hours to add, more than 0." : parsed > 336 ? "At most 336 hours at a time." : null;
  // The hold covers the session's maximum price (its current price unless it may fail over).
  const price = Math.max(session.price_per_hour, session.max_price_per_hour);
  const quote = problem ? null : estimate(price, launchMinutes(parsed), wallet.data);
  const extend = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/sessions/{session_id}/extend", { params: { path: { session_id: session.id } }, body: { hours: parsed } })),
    onSuccess: (updated) => {
      client.setQueryData(KEYS.session(session.id), updated);
      void client.invalidateQueries({ queryKey: KEYS.sessions });
      void client.invalidateQueries({ queryKey: KEYS.wallet });
      toast({ kind: "success", title: `Session ${session.id} extended`, detail: `Paid until ${dateTime(updated.expires_at)}.` });
      onClose();
    },
    onError: (error) => setFailure(refusal(error)),
  });
  return (
    <HoldDialog
      title={`Extend session ${session.id}`}
      action="Extend"
      busyLabel="Extending…"
      busy={extend.isPending}
      quote={quote}
      pricePerHour={price}
      wallet={wallet}
      note="Held now; you still pay only for the minutes the machine runs."
      failure={failure}
      onSubmit={() => {
        if (!problem) extend.mutate();
      }}
      onClose={onClose}
    >
      <p className="muted">Paid until {dateTime(session.expires_at)}.</p>
      <label className="field" htmlFor={inputId}>
        <span>Hours to add</span>
        <input id={inputId} type="number" min={0.25} step={0.25} max={336} value={hours} onChange={(e) => setHours(e.target.value)} aria-invalid={problem !== null} />
        {problem ? <small className="field-problem">{problem}</small> : null}
      </label>
    </HoldDialog>
  );
}

function StopSession({ session, onClose }: { session: Session; onClose: () => void }) {
  const client = useQueryClient();
  const toast = useToast();
  const [failure, setFailure] = useState<Refusal | null>(null);
  const stop = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/sessions/{session_id}/stop", { params: { path: { session_id: session.id } } })),
    onSuccess: (updated) => {
      client.setQueryData(KEYS.session(session.id), updated);
      void client.invalidateQueries({ queryKey: KEYS.sessions });
      void client.invalidateQueries({ queryKey: KEYS.wallet });
      toast({ kind: "success", title: `Shutting down session ${session.id}`, detail: `Billing stopped at ${money(updated.cost_so_far)}; the rest of the hold comes back.` });
      onClose();
    },
    onError: (error) => setFailure(refusal(error)),
  });
  return (
    <ConfirmDialog
      title={`Shut down session ${session.id}?`}
      confirmLabel="Shut down"
      busyLabel="Shutting down…"
      cancelLabel="Keep it running"
      busy={stop.isPending}
      onConfirm={() => stop.mutate()}
      onClose={onClose}
    >
      <p>
        Billing stops now ({money(session.cost_so_far)} so far) and the machine is destroyed: anything on it that you have not copied off is lost. What is
        left of the hold comes back to your wallet.
      </p>
      {failure ? <FailureView failure={failure} /> : null}
    </ConfirmDialog>
  );
}
