// Providers (public): every provider's health at a glance (status, success rate, latency, circuit
// breaker, rate limit, cache age, last sync and how fresh its offers are), one provider's detail
// (?provider=name, so it can be linked), and for admins the operator actions, each confirmed.
import { useQuery } from "@tanstack/react-query";
import { useEffect } from "react";
import { useSearchParams } from "react-router";

import { api } from "../api/client";
import { unwrap } from "../api/errors";
import { count, percent } from "../app/format";
import { LoadError } from "../app/LoadError";
import { useMe } from "../auth/useMe";
import { ProviderDetail } from "./ProviderDetail";
import { freshness, latency, statusTone, type Provider } from "./health";
import "./providers.css";

export const PROVIDERS_KEY = ["providers"] as const;

export function ProvidersPage() {
  const [params, setParams] = useSearchParams();
  const open = params.get("provider");
  const me = useMe();
  const isAdmin = me.data?.roles.includes("admin") ?? false;
  const providers = useQuery({
    queryKey: PROVIDERS_KEY,
    queryFn: () => unwrap(api.GET("/api/v1/providers")),
    refetchInterval: 30_000,
  });
  useEffect(() => {
    document.title = open ? `${open} · Providers · GP4U` : "Providers · GP4U";
  }, [open]);
  const select = (name: string | null) => setParams(name ? { provider: name } : {}, { replace: false });
  const items = providers.data?.items ?? [];

  return (
    <section className="page providers-page" aria-labelledby="providers-title">
      <div className="page-head">
        <h1 id="providers-title">Providers</h1>
        <p className="muted" role="status">
          {providers.isPending ? "Loading…" : providers.isFetching ? "Updating…" : `${count(items.length)} providers · refreshed every 30 s`}
        </p>
      </div>
      <p className="muted providers-intro">
        Where GP4U&apos;s offers come from and how each source is doing. Live providers are called through a circuit breaker, a rate
        limiter and an offer cache; their offers turn stale when a provider has not been confirmed for a while.
      </p>
      {providers.isError ? (
        <LoadError what="the providers" error={providers.error} onRetry={() => void providers.refetch()} />
      ) : providers.isPending ? null : items.length === 0 ? (
        <p className="empty">No providers are configured on this server.</p>
      ) : (
        <div className="table-wrap">
          <table className="data-table providers-table">
            <caption className="sr-only">Provider health</caption>
            <thead>
              <tr>
                <th scope="col">Provider</th>
                <th scope="col">Status</th>
                <th scope="col" className="num">
                  Success
                </th>
                <th scope="col" className="num">
                  Latency p50 / p95
                </th>
                <th scope="col">Breaker</th>
                <th scope="col">Rate limit</th>
                <th scope="col">Cache age</th>
                <th scope="col">Last sync</th>
                <th scope="col">Offers</th>
              </tr>
            </thead>
            <tbody>
              {items.map((p) => (
                <ProviderRow key={p.name} provider={p} selected={p.name === open} onOpen={() => select(p.name)} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {open ? <ProviderDetail name={open} isAdmin={isAdmin} onClose={() => select(null)} /> : null}
    </section>
  );
}

function ProviderRow({ provider: p, selected, onOpen }: { provider: Provider; selected: boolean; onOpen: () => void }) {
  const fresh = freshness(p);
  return (
    <tr aria-current={selected ? "true" : undefined} className={selected ? "is-selected" : undefined}>
      <th scope="row">
        <button type="button" className="link-button" onClick={onOpen}>
          {p.name}
        </button>
        <div className="row-sub muted">
          {p.kind} · {p.source}
        </div>
      </th>
      <td>
        <span className={`state ${statusTone(p.status)}`}>{p.status}</span>
      </td>
      <td className="num">{percent(p.calls?.success_rate)}</td>
      <td className="num">{latency(p)}</td>
      <td>{p.breaker ? <span className={`state ${p.breaker.state === "closed" ? "" : "state-bad"}`}>{p.breaker.state.replace("_", " ")}</span> : "—"}</td>
      <td>{p.rate_limit ? `${p.rate_limit.per_second ?? "—"}/s` : "—"}</td>
      <td>{p.cache?.age_seconds != null ? ageText(p.cache.age_seconds) : "—"}</td>
      <td>
        {p.market?.last_sync ? (
          <>
            {ageText((Date.now() - Date.parse(String(p.market.last_sync))) / 1000)}
            {p.market.last_status ? <div className="row-sub muted">{String(p.market.last_status)}</div> : null}
          </>
        ) : (
          "never"
        )}
      </td>
      <td>
        {count(Number(p.market?.available_offers ?? 0))} <span className={`state ${fresh.tone}`}>{fresh.label}</span>
      </td>
    </tr>
  );
}

export function ageText(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86400)} d ago`;
}

export default ProvidersPage;
