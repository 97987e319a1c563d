// Costs: what your GPU sessions cost (GET /api/v1/costs): this month to date, the month-end
// projection against your budget, the burn rate, and tables by session, month, API key and day,
// each downloadable as CSV. The report's days and month are in the URL (?days=&month=).
import { useMutation, useQuery } from "@tanstack/react-query";
import { useEffect, useId, type ReactNode } from "react";
import { Link, useSearchParams } from "react-router";

import { api } from "../api/client";
import { describeError, unwrap } from "../api/errors";
import { count, dateTime, money } from "../app/format";
import { useToast } from "../app/toasts";
import { DailyCostChart } from "./DailyCostChart";
import { asJson, saveDownload } from "./download";
import { useApiKeys } from "./queries";
import { TableWrap } from "../app/TableWrap";
import type { CostReport } from "./types";
import { WalletTabs } from "./WalletTabs";
import "./wallet.css";

const DAY_CHOICES = [7, 30, 90, 365] as const;
type Table = "sessions" | "daily" | "monthly" | "keys";

export function readReportParams(params: URLSearchParams): { days: number; month: string | null } {
  const days = Number(params.get("days"));
  const month = params.get("month");
  return {
    days: (DAY_CHOICES as readonly number[]).includes(days) ? days : 30,
    month: month && /^\d{4}-(0[1-9]|1[0-2])$/.test(month) ? month : null,
  };
}

const monthLabel = new Intl.DateTimeFormat(undefined, { month: "long", year: "numeric", timeZone: "UTC" });

export function formatMonth(month: string): string {
  return monthLabel.format(new Date(`${month}-01T00:00:00Z`));
}

export function CostsPage() {
  const [params, setParams] = useSearchParams();
  const { days, month } = readReportParams(params);
  const id = useId();
  useEffect(() => {
    document.title = "Costs · GP4U";
  }, []);
  const report = useQuery({
    queryKey: ["costs", days, month],
    queryFn: async ({ signal }) =>
      asJson(await unwrap(api.GET("/api/v1/costs", { params: { query: { days, ...(month ? { month } : {}) } }, signal }))),
    placeholderData: (previous) => previous,
  });
  const set = (key: "days" | "month", value: string | null) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    setParams(next, { replace: true });
  };

  return (
    <section className="page wallet-page" aria-labelledby="costspage-title">
      <WalletTabs />
      <div className="page-head">
        <h1 id="costspage-title">Costs</h1>
      </div>
      <form className="report-controls" aria-label="Report period" onSubmit={(event) => event.preventDefault()}>
        <div className="field">
          <label htmlFor={`${id}-days`}>Days</label>
          <select id={`${id}-days`} value={days} onChange={(event) => set("days", event.target.value === "30" ? null : event.target.value)}>
            {DAY_CHOICES.map((d) => (
              <option key={d} value={d}>
                Last {d} days
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-month`}>Month</label>
          <input id={`${id}-month`} type="month" value={month ?? report.data?.month ?? ""} onChange={(event) => set("month", event.target.value || null)} />
        </div>
        {report.isFetching && report.data ? (
          <span className="muted" role="status">
            Updating…
          </span>
        ) : null}
      </form>
      {report.isPending ? (
        <p className="page-status" role="status">
          Loading your costs…
        </p>
      ) : null}
      {report.isError ? (
        <p className="form-error" role="alert">
          Could not load your costs: {describeError(report.error)}
        </p>
      ) : null}
      {report.data ? <Report report={report.data} /> : null}
    </section>
  );
}

function Report({ report }: { report: CostReport }) {
  const keys = useApiKeys();
  const keyName = (keyId: string | null) => {
    if (keyId === null) return "Logged-in sessions";
    const key = keys.data?.items.find((k) => k.id === keyId);
    return key ? `${key.name} (${key.id})` : keyId;
  };
  const over = report.budget.projected_over_budget;
  const current = report.month === report.as_of.slice(0, 7); // as_of is UTC, like months
  return (
    <>
      {current ? null : <p className="notice">{formatMonth(report.month)} is over: its figures are complete and nothing is projected.</p>}
      <div className="cards costs-figures" role="group" aria-label={`Figures for ${formatMonth(report.month)}`}>
        <Figure label={`${formatMonth(report.month)} to date`} value={money(report.month_to_date)} />
        <Figure
          label="Projected month end"
          value={money(report.projected_month_end)}
          note={
            report.budget.monthly_limit === null ? (
              <span className="muted">
                No monthly budget: <Link to="/wallet">set one</Link>
              </span>
            ) : (
              <span className={over ? "state state-bad" : "muted"}>
                {over ? "Over" : "Within"} your {money(report.budget.monthly_limit)} budget
              </span>
            )
          }
        />
        <Figure label="Burn rate now" value={`${money(report.burn_rate_per_hour)}/h`} note={<span className="muted">Running sessions' hourly prices</span>} />
        <Figure label={`Last ${report.days} days`} value={money(report.total)} note={<span className="muted">{count(report.sessions.length)} sessions</span>} />
      </div>

      <ReportSection title="Sessions" table="sessions" report={report} empty={report.sessions.length === 0 ? `No GPU sessions ran in the last ${report.days} days.` : null}>
        <table className="data-table">
          <caption className="sr-only">Session costs, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Session</th>
              <th scope="col">GPU</th>
              <th scope="col">Provider</th>
              <th scope="col">Started</th>
              <th scope="col" className="num">
                Minutes
              </th>
              <th scope="col" className="num">
                Price/h
              </th>
              <th scope="col" className="num">
                Cost
              </th>
              <th scope="col" className="num">
                In these days
              </th>
            </tr>
          </thead>
          <tbody>
            {report.sessions.map((s) => (
              <tr key={s.id}>
                <td>
                  <Link to={`/sessions/${s.id}`}>#{s.id}</Link> <span className="row-sub">{s.state}</span>
                </td>
                <td>
                  {s.gpu_count} × {s.gpu}
                </td>
                <td>{s.provider}</td>
                <td>{dateTime(s.running_at)}</td>
                <td className="num">{count(s.minutes)}</td>
                <td className="num">{money(s.price_per_hour)}</td>
                <td className="num">{money(s.cost)}</td>
                <td className="num">{money(s.window_cost)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </ReportSection>

      <div className="wallet-grid">
        <ReportSection title="By month" table="monthly" report={report} empty={null}>
          <table className="data-table">
            <caption className="sr-only">Cost by month, the 12 months up to {formatMonth(report.month)}</caption>
            <thead>
              <tr>
                <th scope="col">Month</th>
                <th scope="col" className="num">
                  Cost
                </th>
              </tr>
            </thead>
            <tbody>
              {[...report.monthly].reverse().map((m) => (
                <tr key={m.month}>
                  <th scope="row">{formatMonth(m.month)}</th>
                  <td className="num">{money(m.cost)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </ReportSection>
        <ReportSection title="By API key" table="keys" report={report} empty={report.by_key.length === 0 ? "No session costs in these days." : null}>
          <table className="data-table">
            <caption className="sr-only">Cost by API key in the last {report.days} days</caption>
            <thead>
              <tr>
                <th scope="col">Launched by</th>
                <th scope="col" className="num">
                  Sessions
                </th>
                <th scope="col" className="num">
                  Cost
                </th>
              </tr>
            </thead>
            <tbody>
              {report.by_key.map((k) => (
                <tr key={k.key_id ?? "login"}>
                  <th scope="row">{keyName(k.key_id)}</th>
                  <td className="num">{count(k.sessions)}</td>
                  <td className="num">{money(k.cost)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </ReportSection>
      </div>

      <ReportSection title="By day" table="daily" report={report} empty={null} bare>
        <DailyCostChart report={report} />
      </ReportSection>
      <p className="muted">As of {dateTime(report.as_of)}. Cost accrues per started minute of running time; days and months are UTC.</p>
    </>
  );
}

function Figure({ label, value, note }: { label: string; value: string; note?: ReactNode }) {
  return (
    <div className="card stat">
      <span className="stat-label">{label}</span>
      <span className="stat-value">{value}</span>
      {note}
    </div>
  );
}

interface ReportSectionProps {
  title: string;
  table: Table;
  report: CostReport;
  /** Shown instead of the table when there is nothing to list. */
  empty: string | null;
  /** The children are not a table: no scroller around them. */
  bare?: boolean;
  children: ReactNode;
}

function ReportSection({ title, table, report, empty, bare = false, children }: ReportSectionProps) {
  const toast = useToast();
  const headingId = useId();
  const download = useMutation({
    mutationFn: () =>
      saveDownload(
        api.GET("/api/v1/costs", { params: { query: { days: report.days, month: report.month, format: "csv", table } }, parseAs: "blob" }),
        `gp4u-costs-${table}.csv`,
      ),
    onSuccess: (name) => toast({ kind: "success", title: `${title} downloaded`, detail: name }),
    onError: (error) => toast({ kind: "error", title: `Could not download ${title.toLowerCase()}`, detail: describeError(error) }),
  });
  return (
    <section className="card wallet-section" aria-labelledby={headingId}>
      <div className="section-head">
        <h2 id={headingId}>{title}</h2>
        <button type="button" className="button" onClick={() => download.mutate()} disabled={download.isPending} aria-label={`Download ${title.toLowerCase()} as CSV`}>
          {download.isPending ? "Preparing…" : "CSV"}
        </button>
      </div>
      {empty ? <p className="empty">{empty}</p> : bare ? children : <TableWrap label={`${title} table`}>{children}</TableWrap>}
    </section>
  );
}
