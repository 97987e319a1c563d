// The group-by-GPU view of the current search (GET /api/v1/offers/summary): one row per GPU model
// and memory size with its offer count, price range and providers. Choosing a group narrows the
// query to that GPU and returns to the offers list.
import { keepPreviousData, useQuery } from "@tanstack/react-query";

import { api } from "../api/client";
import { ApiError, describeError, unwrap } from "../api/errors";
import { count, money } from "../app/format";
import type { GpuGroup } from "./types";

export function summaryQuery(q: string) {
  return {
    queryKey: ["summary", q] as const,
    queryFn: ({ signal }: { signal: AbortSignal }) => unwrap(api.GET("/api/v1/offers/summary", { params: { query: { q: q || undefined } }, signal })),
    staleTime: 30_000,
  };
}

/** The GPU as the query language spells one model and memory size, e.g. `H100-80GB`. */
export function gpuTermOf(group: Pick<GpuGroup, "gpu" | "gpu_memory_gb">): string {
  return `${group.gpu}-${group.gpu_memory_gb}GB`;
}

export function GroupsView({ q, onChoose }: { q: string; onChoose: (group: GpuGroup) => void }) {
  const summary = useQuery({ ...summaryQuery(q), placeholderData: keepPreviousData });
  if (summary.isPending) return <p role="status">Grouping offers…</p>;
  if (summary.isError) {
    const rejected = summary.error instanceof ApiError && summary.error.isClientError;
    return (
      <p className={rejected ? "empty" : "notice notice-stale"} role="alert">
        {rejected ? "No groups: fix the query." : `Could not group offers: ${describeError(summary.error)}`}
      </p>
    );
  }
  const groups = summary.data.items;
  if (groups.length === 0) return <p className="empty">No offers match this search.</p>;
  return (
    <div className="table-wrap groups-wrap">
      <table className="data-table groups-table">
        <caption className="sr-only">Offers grouped by GPU: choose a GPU to see its offers</caption>
        <thead>
          <tr>
            <th scope="col">GPU</th>
            <th scope="col" className="num">
              Offers
            </th>
            <th scope="col" className="num">
              Providers
            </th>
            <th scope="col" className="num">
              Lowest $/GPU-h
            </th>
            <th scope="col" className="num">
              Median $/GPU-h
            </th>
            <th scope="col">Cheapest at</th>
          </tr>
        </thead>
        <tbody>
          {groups.map((group) => (
            <tr key={`${group.gpu}|${group.gpu_memory_gb}|${group.gpu_variant ?? ""}`}>
              <th scope="row">
                <button type="button" className="link-button" onClick={() => onChoose(group)}>
                  {group.gpu}
                  {group.gpu_variant ? ` ${group.gpu_variant}` : ""} · {group.gpu_memory_gb} GB
                  <span className="sr-only">: show these {count(group.offers)} offers</span>
                </button>
              </th>
              <td className="num">{count(group.offers)}</td>
              <td className="num">{count(group.providers)}</td>
              <td className="num">
                <strong>{money(group.min_price_per_gpu_hour)}</strong>
              </td>
              <td className="num">{money(group.median_price_per_gpu_hour)}</td>
              <td>{group.cheapest_provider}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
