// The audit log's filters as URL parameters: what the API takes from ?action=&provider=&session_id=&since=.
export interface AuditFilters {
  action?: string;
  provider?: string;
  session_id?: number;
  /** ISO 8601 with a zone (the form's local time, converted). */
  since?: string;
}

export function auditFilters(params: URLSearchParams): AuditFilters {
  const out: AuditFilters = {};
  const action = params.get("action")?.trim();
  if (action) out.action = action;
  const provider = params.get("provider")?.trim();
  if (provider) out.provider = provider;
  const session = params.get("session_id")?.trim();
  if (session && /^\d+$/.test(session)) out.session_id = Number(session);
  const since = params.get("since");
  if (since) {
    const t = new Date(since);
    if (!Number.isNaN(t.getTime())) out.since = t.toISOString();
  }
  return out;
}
