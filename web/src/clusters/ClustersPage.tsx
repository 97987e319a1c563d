// Your clusters (a protected page), newest first: state, progress, cost so far and what is still
// held, filtered by active or ended, more pages on demand. Polled while any cluster is live.
import { useEffect } from "react";
import { Link, useSearchParams } from "react-router";

import { count, dateTime } from "../app/format";
import { LoadError } from "../app/LoadError";
import { total } from "./format";
import { Progress } from "./Progress";
import { stateTone, useClusters, type ListFilter } from "./queries";
import "./clusters.css";

const FILTERS: readonly [ListFilter, string][] = [
  ["all", "All"],
  ["active", "Active"],
  ["ended", "Ended"],
];

export function ClustersPage() {
  const [params, setParams] = useSearchParams();
  const raw = params.get("show");
  const filter: ListFilter = raw === "active" || raw === "ended" ? raw : "all";
  const clusters = useClusters(filter);

  useEffect(() => {
    document.title = "Clusters · GP4U";
  }, []);

  const items = clusters.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <section className="page" aria-labelledby="clusters-title">
      <div className="page-head">
        <h1 id="clusters-title">Clusters</h1>
        <Link className="button button-primary" to="/clusters/new">
          Plan a cluster
        </Link>
      </div>
      <div className="tabs" role="group" aria-label="Show">
        {FILTERS.map(([value, label]) => (
          <button
            key={value}
            type="button"
            aria-pressed={filter === value}
            onClick={() => {
              const p = new URLSearchParams(params);
              if (value === "all") p.delete("show");
              else p.set("show", value);
              setParams(p, { replace: true });
            }}
          >
            {label}
          </button>
        ))}
      </div>
      {clusters.isPending ? (
        <p className="page-status" role="status">
          Loading your clusters…
        </p>
      ) : clusters.isError ? (
        <LoadError what="your clusters" error={clusters.error} onRetry={() => void clusters.refetch()} />
      ) : items.length === 0 ? (
        <div className="empty">
          <p>{filter === "all" ? "You have no clusters yet." : `No ${filter} clusters.`}</p>
          <p>
            <Link to="/clusters/new">Plan one</Link>: describe a job and GP4U finds the cheapest GPUs that finish it in time.
          </p>
        </div>
      ) : (
        <>
          <div className="table-wrap" role="region" aria-label="Your clusters" tabIndex={0}>
            <table className="data-table clusters-table">
              <caption className="sr-only">Your clusters</caption>
              <thead>
                <tr>
                  <th scope="col">Cluster</th>
                  <th scope="col">State</th>
                  <th scope="col">Progress</th>
                  <th scope="col" className="num">
                    Cost so far
                  </th>
                  <th scope="col" className="num">
                    Held
                  </th>
                  <th scope="col" className="num">
                    Machines
                  </th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {items.map((c) => (
                  <tr key={c.id}>
                    <td>
                      <Link to={`/clusters/${c.id}`}>{c.name || `Cluster #${c.id}`}</Link>
                      <div className="muted">{c.requirement.described_as}</div>
                    </td>
                    <td>
                      <span className={stateTone(c.state)}>{c.state}</span>
                    </td>
                    <td className="progress-cell">
                      <Progress share={c.progress.share_delivered} label={`Progress of ${c.name || `cluster #${c.id}`}`} />
                    </td>
                    <td className="num">{total(c.money.cost_so_far)}</td>
                    <td className="num">{total(c.money.held)}</td>
                    <td className="num">
                      {count(c.progress.machines_running)} / {count(c.plan.machines)}
                    </td>
                    <td>{dateTime(c.created_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {clusters.hasNextPage ? (
            <p>
              <button type="button" className="button" onClick={() => void clusters.fetchNextPage()} disabled={clusters.isFetchingNextPage}>
                {clusters.isFetchingNextPage ? "Loading…" : "Show older clusters"}
              </button>
            </p>
          ) : null}
        </>
      )}
    </section>
  );
}
