// The audit log (GET /api/v1/audit), newest first, 100 at a time: filters by action, provider,
// session and start time live in the URL; each event's detail opens in place.
import { useInfiniteQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useSearchParams } from "react-router";

import { api } from "../api/client";
import { describeError, unwrap } from "../api/errors";
import { dateTime } from "../app/format";
import { auditFilters, type AuditFilters } from "./auditFilters";

export function AuditLog() {
  const [params, setParams] = useSearchParams();
  const filters = auditFilters(params);
  const [draft, setDraft] = useState<Record<keyof AuditFilters, string>>(() => ({
    action: filters.action ?? "",
    provider: filters.provider ?? "",
    session_id: filters.session_id ? String(filters.session_id) : "",
    since: params.get("since") ?? "",
  }));
  const log = useInfiniteQuery({
    queryKey: ["admin", "audit", filters],
    queryFn: ({ pageParam }) => unwrap(api.GET("/api/v1/audit", { params: { query: { ...filters, before: pageParam, limit: 100 } } })),
    initialPageParam: null as number | null,
    getNextPageParam: (last) => last.next_before ?? undefined,
  });
  const events = log.data?.pages.flatMap((p) => p.items) ?? [];
  const apply = (event: FormEvent) => {
    event.preventDefault();
    const next = new URLSearchParams({ tab: "audit" });
    for (const [key, value] of Object.entries(draft)) if (value.trim()) next.set(key, value.trim());
    setParams(next);
  };
  const clear = () => {
    setDraft({ action: "", provider: "", session_id: "", since: "" });
    setParams({ tab: "audit" });
  };
  const badSession = draft.session_id.trim() !== "" && !/^\d+$/.test(draft.session_id.trim());

  return (
    <section aria-labelledby="audit-title">
      <h2 id="audit-title">Audit log</h2>
      <form className="admin-filters" onSubmit={apply} aria-label="Filter the audit log">
        <div className="field-row">
          <label className="field">
            <span>Action</span>
            <input value={draft.action} maxLength={48} placeholder="e.g. session.launch" onChange={(e) => setDraft({ ...draft, action: e.target.value })} />
          </label>
          <label className="field">
            <span>Provider</span>
            <input value={draft.provider} maxLength={64} onChange={(e) => setDraft({ ...draft, provider: e.target.value })} />
          </label>
          <label className="field">
            <span>Session id</span>
            <input
              value={draft.session_id}
              inputMode="numeric"
              aria-invalid={badSession ? true : undefined}
              aria-describedby={badSession ? "audit-session-error" : undefined}
              onChange={(e) => setDraft({ ...draft, session_id: e.target.value })}
            />
            {badSession ? (
              <small id="audit-session-error" className="field-error">
                A number.
              </small>
            ) : null}
          </label>
          <label className="field">
            <span>Since</span>
            <input type="datetime-local" value={draft.since} onChange={(e) => setDraft({ ...draft, since: e.target.value })} />
          </label>
        </div>
        <div className="actions">
          <button type="submit" className="button" disabled={badSession}>
            Filter
          </button>
          <button type="button" className="button button-quiet" onClick={clear}>
            Clear filters
          </button>
        </div>
      </form>
      {log.isPending ? (
        <p role="status">Loading the audit log…</p>
      ) : log.isError ? (
        <p className="notice notice-stale" role="alert">
          Could not load the audit log: {describeError(log.error)}
        </p>
      ) : events.length === 0 ? (
        <p className="empty">No events{params.size > 1 ? " match these filters" : " yet"}.</p>
      ) : (
        <>
          <div className="table-wrap">
            <table className="data-table audit-table">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Action</th>
                  <th scope="col">Actor</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">Provider / session</th>
                  <th scope="col">Detail</th>
                </tr>
              </thead>
              <tbody>
                {events.map((e) => (
                  <tr key={e.id}>
                    <td>{dateTime(e.at)}</td>
                    <td>
                      <code>{e.action}</code>
                    </td>
                    <td className="break">{e.actor}</td>
                    <td>
                      <span className={`state ${e.outcome === "ok" || e.outcome === "success" ? "state-good" : e.outcome === "failed" || e.outcome === "error" ? "state-bad" : ""}`}>
                        {e.outcome}
                      </span>
                    </td>
                    <td>
                      {[e.provider, e.session_id ? `session ${e.session_id}` : null, e.instance_id].filter(Boolean).join(" · ") || "—"}
                    </td>
                    <td>
                      {Object.keys(e.detail).length ? (
                        <details>
                          <summary>
                            Detail<span className="sr-only"> of event {e.id}</span>
                          </summary>
                          <pre className="audit-detail">{JSON.stringify(e.detail, null, 2)}</pre>
                        </details>
                      ) : (
                        "—"
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {log.hasNextPage ? (
            <button type="button" className="button admin-more" onClick={() => void log.fetchNextPage()} disabled={log.isFetchingNextPage}>
              {log.isFetchingNextPage ? "Loading…" : "Load older events"}
            </button>
          ) : null}
        </>
      )}
    </section>
  );
}
