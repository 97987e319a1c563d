// One provider's health in full (GET /providers/{name}/health): calls, breaker, rate limit,
// cache, market source and capabilities; for admins the operator actions (sync now, reset the
// breaker, invalidate the cache), each confirmed in a dialog and reported in a toast.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { api } from "../api/client";
import { describeError, unwrap } from "../api/errors";
import { count, dateTime, number, percent } from "../app/format";
import { useToast } from "../app/toasts";
import { ConfirmDialog } from "../app/ConfirmDialog";
import { freshness, latency, statusTone, syncSummary } from "./health";

type Action = "sync" | "reset" | "invalidate";

const ACTIONS: Record<Action, { label: string; confirm: string; explain: string }> = {
  sync: { label: "Sync now", confirm: "Sync now", explain: "Fetches the provider's offers now and updates the market with them." },
  reset: {
    label: "Reset breaker",
    confirm: "Reset the breaker",
    explain: "Closes the circuit breaker, so calls to the provider are tried again at once. If the provider still fails, it opens again.",
  },
  invalidate: {
    label: "Invalidate cache",
    confirm: "Invalidate the cache",
    explain: "Drops the cached offer list; the next read fetches it from the provider.",
  },
};

export function ProviderDetail({ name, isAdmin, onClose }: { name: string; isAdmin: boolean; onClose: () => void }) {
  const [confirming, setConfirming] = useState<Action | null>(null);
  const client = useQueryClient();
  const toast = useToast();
  const health = useQuery({
    queryKey: ["providers", "health", name],
    queryFn: () => unwrap(api.GET("/api/v1/providers/{name}/health", { params: { path: { name } } })),
    refetchInterval: 30_000,
  });
  const act = useMutation({
    mutationFn: async (action: Action): Promise<string> => {
      const path = { params: { path: { name } } };
      if (action === "sync") return syncSummary(await unwrap(api.POST("/api/v1/providers/{name}/sync", path)));
      if (action === "reset") {
        await unwrap(api.POST("/api/v1/providers/{name}/breaker/reset", path));
        return "The circuit breaker is closed: calls are tried again.";
      }
      const out = (await unwrap(api.POST("/api/v1/providers/{name}/cache/invalidate", path))) as { invalidated?: unknown };
      return out.invalidated ? "The cached offers were dropped." : "There was nothing cached.";
    },
    onSuccess: (detail, action) => {
      setConfirming(null);
      void client.invalidateQueries({ queryKey: ["providers"] });
      if (action === "sync") void client.invalidateQueries({ queryKey: ["offers"] });
      const failed = action === "sync" && detail.startsWith("Failed");
      toast({ kind: failed ? "error" : "success", title: `${name}: ${ACTIONS[action].label.toLowerCase()}${failed ? " failed" : " done"}`, detail });
    },
    onError: (error, action) => {
      setConfirming(null);
      toast({ kind: "error", title: `${name}: ${ACTIONS[action].label.toLowerCase()} failed`, detail: describeError(error) });
    },
  });

  const p = health.data;
  return (
    <section className="card provider-detail" aria-labelledby="provider-detail-title">
      <div className="provider-detail-head">
        <h2 id="provider-detail-title">{name}</h2>
        <button type="button" className="button button-quiet" onClick={onClose}>
          Close<span className="sr-only"> {name} details</span>
        </button>
      </div>
      {health.isPending ? (
        <p role="status">Loading {name}…</p>
      ) : health.isError ? (
        <p className="notice notice-stale" role="alert">
          Could not load {name}: {describeError(health.error)}
        </p>
      ) : p ? (
        <>
          <p>
            <span className={`state ${statusTone(p.status)}`}>{p.status}</span> {p.kind} provider, offers in the <strong>{p.source}</strong>{" "}
            market as <strong>{p.provider}</strong>.
          </p>
          <div className="provider-facts">
            <dl className="specs">
              <dt>Calls (15 min)</dt>
              <dd>{p.calls ? count(p.calls.calls) : "—"}</dd>
              <dt>Success rate</dt>
              <dd>{percent(p.calls?.success_rate)}</dd>
              <dt>Latency p50 / p95</dt>
              <dd>{latency(p)}</dd>
              <dt>Latency p99</dt>
              <dd>{number(p.calls?.latency_p99_ms, " ms")}</dd>
              <dt>Breaker</dt>
              <dd>
                {p.breaker ? `${p.breaker.state.replace("_", " ")}, ${p.breaker.consecutive_failures} failures in a row` : "—"}
                {p.breaker?.opened_at ? `, opened ${dateTime(p.breaker.opened_at)}` : ""}
              </dd>
            </dl>
            <dl className="specs">
              <dt>Rate limit</dt>
              <dd>
                {p.rate_limit
                  ? `${p.rate_limit.per_second ?? "—"}/s; ${count(p.rate_limit.acquired)} calls, ${count(p.rate_limit.waits)} waited (${number(p.rate_limit.seconds_waited, " s")})`
                  : "—"}
              </dd>
              <dt>Cache</dt>
              <dd>
                {p.cache?.age_seconds != null ? `${number(p.cache.age_seconds, " s")} old` : "empty"}
                {p.cache?.hit_ratio != null ? `, ${percent(p.cache.hit_ratio)} hits` : ""}
              </dd>
              <dt>Sync interval</dt>
              <dd>{number(p.sync_interval_seconds, " s")}</dd>
              <dt>Last sync</dt>
              <dd>
                {p.market?.last_sync ? `${dateTime(String(p.market.last_sync))} (${String(p.market.last_status ?? "—")})` : "never"}
                {p.market?.last_error ? <div className="row-sub">{String(p.market.last_error)}</div> : null}
              </dd>
              <dt>Offers</dt>
              <dd>
                {count(Number(p.market?.available_offers ?? 0))} available of {count(Number(p.market?.offers ?? 0))},{" "}
                {freshness(p).label}
              </dd>
            </dl>
          </div>
          {Object.keys(p.capabilities).length ? (
            <>
              <h3>Capabilities</h3>
              <ul className="capabilities">
                {Object.entries(p.capabilities).map(([capability, reason]) => (
                  <li key={capability}>
                    <strong>{capability.replaceAll("_", " ")}</strong>: {reason === "yes" ? "yes" : `no (${reason})`}
                  </li>
                ))}
              </ul>
            </>
          ) : null}
          {isAdmin && p.breaker ? (
            <div className="actions" role="group" aria-label={`Admin actions for ${name}`}>
              {(Object.keys(ACTIONS) as Action[]).map((action) => (
                <button key={action} type="button" className="button" onClick={() => setConfirming(action)} disabled={act.isPending}>
                  {ACTIONS[action].label}
                </button>
              ))}
            </div>
          ) : null}
        </>
      ) : null}
      {confirming ? (
        <ConfirmDialog
          title={`${ACTIONS[confirming].label}: ${name}?`}
          confirmLabel={ACTIONS[confirming].confirm}
          tone="primary"
          busy={act.isPending}
          onConfirm={() => act.mutate(confirming)}
          onClose={() => setConfirming(null)}
        >
          <p>{ACTIONS[confirming].explain}</p>
        </ConfirmDialog>
      ) : null}
    </section>
  );
}
