// One cluster, live (a protected page; polled while it starts, runs or ends): its members with
// state, GPU, provider, contribution share and measured-speed mark, progress, cost so far
// against what is held, the plan it was made with, its events, and start / stop (stop asks
// first). A cluster that is not yours, or does not exist, is not found.
import { useEffect, useState } from "react";
import { Link, useParams } from "react-router";

import { ApiError, describeError } from "../api/errors";
import { count, dateTime, money, percent } from "../app/format";
import { useToast } from "../app/toasts";
import { LoadError } from "../app/LoadError";
import { ConfirmDialog } from "../app/ConfirmDialog";
import { duration, pflopHours, placementLabel, total } from "./format";
import { Progress } from "./Progress";
import { ENDED_STATES, LIVE_STATES, stateTone, useCluster, useClusterAction, type Cluster } from "./queries";
import "./clusters.css";

export function ClusterPage() {
  const { clusterId } = useParams();
  const id = /^\d{1,15}$/.test(clusterId ?? "") ? Number(clusterId) : null;
  if (id === null || id < 1) return <ClusterNotFound />;
  return <ClusterView id={id} />;
}

function ClusterNotFound() {
  useEffect(() => {
    document.title = "Cluster not found · GP4U";
  }, []);
  return (
    <section className="page narrow" aria-labelledby="cluster-missing-title">
      <h1 id="cluster-missing-title">Cluster not found</h1>
      <p>
        You have no cluster at this address. <Link to="/clusters">Your clusters</Link>
      </p>
    </section>
  );
}

function ClusterView({ id }: { id: number }) {
  const cluster = useCluster(id);
  const title = cluster.data ? cluster.data.name || `Cluster #${id}` : `Cluster #${id}`;
  useEffect(() => {
    document.title = `${title} · GP4U`;
  }, [title]);

  if (cluster.isPending) {
    return (
      <p className="page-status" role="status">
        Loading the cluster…
      </p>
    );
  }
  if (cluster.isError) {
    if (cluster.error instanceof ApiError && cluster.error.status === 404) return <ClusterNotFound />;
    return (
      <section className="page narrow" aria-labelledby="cluster-error-title">
        <h1 id="cluster-error-title">{title}</h1>
        <LoadError what="this cluster" error={cluster.error} onRetry={() => void cluster.refetch()} />
      </section>
    );
  }
  const c = cluster.data;
  const live = LIVE_STATES.includes(c.state);
  return (
    <section className="page cluster-page" aria-labelledby="cluster-title">
      <p className="muted">
        <Link to="/clusters">Clusters</Link> / #{c.id}
      </p>
      <div className="page-head">
        <h1 id="cluster-title">
          {title} <span className={stateTone(c.state)}>{c.state}</span>
        </h1>
        <Controls cluster={c} />
      </div>
      {live ? (
        <p className="muted" role="status">
          Live: updates every few seconds.
        </p>
      ) : null}
      {c.end_reason ? (
        <p className={`notice ${c.state === "failed" ? "notice-stale" : ""}`}>
          Ended ({c.end_reason.replaceAll("_", " ")}){c.end_detail ? `: ${c.end_detail}` : ""}
        </p>
      ) : null}
      <div className="cards">
        <div className="card stat">
          <span className="stat-label">Progress</span>
          <span className="stat-value">{percent(c.progress.share_delivered)}</span>
          <Progress share={c.progress.share_delivered} label="Compute delivered" caption={false} />
          <span className="muted stat-note">
            {pflopHours(c.progress.delivered_pflop_hours).replace(" PFLOP-hours", "")} of {pflopHours(c.progress.required_pflop_hours)}
          </span>
        </div>
        <div className="card stat">
          <span className="stat-label">Cost so far</span>
          <span className="stat-value">{total(c.money.cost_so_far)}</span>
          <span className="muted stat-note">
            of {total(c.money.estimate)} planned · {total(c.money.held)} still held
          </span>
        </div>
        <div className="card stat">
          <span className="stat-label">Machines running</span>
          <span className="stat-value">
            {count(c.progress.machines_running)} / {count(c.plan.machines)}
          </span>
          <span className="muted stat-note">{c.replans ? `${c.replans} re-plan${c.replans > 1 ? "s" : ""}` : "No re-plans"}</span>
        </div>
        <div className="card stat">
          <span className="stat-label">Deadline</span>
          <span className="stat-value">{dateTime(c.deadline_at)}</span>
          <span className="muted stat-note">{c.requirement.deadline_fixed ? "A fixed date" : "Counted from the start"}</span>
        </div>
      </div>
      <Members cluster={c} />
      <section className="cluster-section" aria-labelledby="cluster-job-title">
        <h2 id="cluster-job-title">The job</h2>
        <dl className="specs">
          <dt>Compute</dt>
          <dd>
            {c.requirement.described_as.includes("PFLOP")
              ? `${c.requirement.described_as}, ${c.requirement.precision}`
              : `${c.requirement.described_as} (${pflopHours(c.requirement.pflop_hours)}, ${c.requirement.precision})`}
          </dd>
          <dt>Within</dt>
          <dd>{duration(c.requirement.deadline_hours)}</dd>
          <dt>Budget</dt>
          <dd>{c.requirement.budget === null ? "None set" : total(c.requirement.budget)}</dd>
          <dt>Placement</dt>
          <dd>{placementLabel(c.requirement.placement)}</dd>
          <dt>Spot</dt>
          <dd>{c.requirement.spot_allowed ? "Allowed" : "Not allowed"}</dd>
          <dt>Image</dt>
          <dd className="break">{c.image ?? "The provider's default"}</dd>
          {c.env_keys.length ? (
            <>
              <dt>Environment</dt>
              <dd className="break">{c.env_keys.join(", ")}</dd>
            </>
          ) : null}
          {c.ssh_fingerprint ? (
            <>
              <dt>SSH key</dt>
              <dd className="break">{c.ssh_fingerprint}</dd>
            </>
          ) : null}
          <dt>Created</dt>
          <dd>{dateTime(c.created_at)}</dd>
          {c.started_at ? (
            <>
              <dt>Started</dt>
              <dd>{dateTime(c.started_at)}</dd>
            </>
          ) : null}
          {c.ended_at ? (
            <>
              <dt>Ended</dt>
              <dd>{dateTime(c.ended_at)}</dd>
            </>
          ) : null}
        </dl>
      </section>
      {c.events.length ? (
        <section className="cluster-section" aria-labelledby="cluster-events-title">
          <h2 id="cluster-events-title">What happened</h2>
          <ol className="cluster-events">
            {[...c.events].reverse().map((e, i) => (
              <li key={`${e.at}-${i}`}>
                <time dateTime={e.at}>{dateTime(e.at)}</time>
                {e.what}
              </li>
            ))}
          </ol>
        </section>
      ) : null}
    </section>
  );
}

function Controls({ cluster }: { cluster: Cluster }) {
  const toast = useToast();
  const start = useClusterAction(cluster.id, "start");
  const stop = useClusterAction(cluster.id, "stop");
  const [confirming, setConfirming] = useState(false);
  const name = cluster.name || `Cluster #${cluster.id}`;

  const doStart = () =>
    start.mutate(undefined, {
      onSuccess: () => toast({ kind: "success", title: "Cluster starting", detail: `${name}: launching its members` }),
      onError: (error) => toast({ kind: "error", title: "Could not start the cluster", detail: describeError(error) }),
    });
  const doStop = () =>
    stop.mutate(undefined, {
      onSuccess: () => {
        setConfirming(false);
        toast({ kind: "success", title: "Cluster stopping", detail: "Billing stopped; its machines are being destroyed." });
      },
      onError: (error) => toast({ kind: "error", title: "Could not stop the cluster", detail: describeError(error) }),
    });

  if (ENDED_STATES.includes(cluster.state)) {
    return (
      <Link className="button" to="/clusters/new">
        Plan another
      </Link>
    );
  }
  return (
    <div className="actions">
      {cluster.state === "planned" ? (
        <button type="button" className="button button-primary" onClick={doStart} disabled={start.isPending}>
          {start.isPending ? "Starting…" : "Start"}
        </button>
      ) : null}
      {cluster.state !== "ending" ? (
        <button type="button" className="button button-danger" onClick={() => setConfirming(true)} disabled={stop.isPending}>
          Stop
        </button>
      ) : null}
      {confirming ? (
        <ConfirmDialog
          title={`Stop ${name}?`}
          confirmLabel="Stop the cluster"
          busyLabel="Stopping…"
          cancelLabel="Keep it"
          tone="primary"
          busy={stop.isPending}
          onConfirm={doStop}
          onClose={() => setConfirming(false)}
        >
          <p>
            Every member ends now and its machine is destroyed. You pay for the time they ran
            {cluster.state === "planned" ? " (none yet)" : ""}; the rest of the {total(cluster.money.held)} held comes back
            to your wallet.
          </p>
          {stop.isError ? (
            <p className="form-error" role="alert">
              {describeError(stop.error)}
            </p>
          ) : null}
        </ConfirmDialog>
      ) : null}
    </div>
  );
}

function Members({ cluster }: { cluster: Cluster }) {
  // The plan says which offers were planned at their measured speed; a re-plan's members are
  // matched by offer too.
  const measured = new Set(cluster.plan.members.filter((m) => m.measured).map((m) => m.offer_id));
  return (
    <section className="cluster-section" aria-labelledby="cluster-members-title">
      <h2 id="cluster-members-title">Members</h2>
      {cluster.members.length === 0 ? (
        <p className="empty">No members.</p>
      ) : (
        <div className="table-wrap" role="region" aria-label="Members of the cluster" tabIndex={0}>
          <table className="data-table">
            <caption className="sr-only">Members of the cluster</caption>
            <thead>
              <tr>
                <th scope="col">Machine</th>
                <th scope="col">State</th>
                <th scope="col">Provider</th>
                <th scope="col" className="num">
                  Share
                </th>
                <th scope="col" className="num">
                  Ran
                </th>
                <th scope="col" className="num">
                  Price / h
                </th>
                <th scope="col" className="num">
                  Cost so far
                </th>
              </tr>
            </thead>
            <tbody>
              {cluster.members.map((m) => (
                <tr key={m.id}>
                  <td>
                    {m.gpu_count} × {m.gpu}
                    {measured.has(m.offer_id) ? (
                      <span className="badge badge-spot measured-mark" title="Planned at the speed its agent measured">
                        measured
                      </span>
                    ) : null}
                    {m.spot ? <span className="badge badge-spot measured-mark">spot</span> : null}
                    <div className="muted">
                      {m.label}
                      {m.round ? ` · re-plan ${m.round}` : ""}
                    </div>
                    {m.failure ? <div className="member-failure">{m.failure}</div> : null}
                  </td>
                  <td>
                    <span className={stateTone(m.state)}>{m.state}</span>
                    {m.session_state ? <div className="muted">session {m.session_state}</div> : null}
                  </td>
                  <td>
                    {m.provider}
                    {m.region ? <div className="muted">{m.region}</div> : null}
                  </td>
                  <td className="num">{percent(m.contribution)}</td>
                  <td className="num">
                    {m.ran_hours > 0 ? duration(m.ran_hours) : "Not yet"}
                    <div className="muted">of {duration(m.planned_hours)}</div>
                  </td>
                  <td className="num">{money(m.price_per_hour)}</td>
                  <td className="num">{total(m.cost_so_far)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
