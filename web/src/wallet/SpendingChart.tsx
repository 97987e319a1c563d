// Spending over the last 30 days (GET /api/v1/wallet/analytics): a stacked bar per day by
// category, in theme colours, with the same figures as a table for screen readers and anyone
// who prefers numbers. recharts is only ever loaded with this (lazy) page.
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

import { describeError } from "../api/errors";
import { money } from "../app/format";
import { useAnalytics } from "./queries";
import { TableWrap } from "../app/TableWrap";
import type { Analytics } from "./types";

const CATEGORIES = [
  { key: "session", label: "GPU sessions", colour: "var(--accent)" },
  { key: "reservation", label: "Reservations", colour: "var(--sim-text)" },
  { key: "cluster", label: "Clusters", colour: "var(--ok-text)" },
  { key: "other", label: "Other", colour: "var(--muted)" },
] as const;

const dayLabel = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", timeZone: "UTC" });

function shortDay(iso: string): string {
  return dayLabel.format(new Date(`${iso}T00:00:00Z`));
}

function rows(data: Analytics) {
  return data.days.map((day) => ({
    date: day.date,
    ...Object.fromEntries(CATEGORIES.map((c) => [c.key, day.by_category[c.key] ?? 0])),
    spent: day.spent,
  }));
}

export function SpendingSection() {
  const analytics = useAnalytics(30);
  return (
    <section className="card wallet-section" aria-labelledby="spending-title">
      <h2 id="spending-title">Spending, last 30 days</h2>
      {analytics.isPending ? <p role="status">Loading spending…</p> : null}
      {analytics.isError ? (
        <p className="form-error" role="alert">
          Could not load spending: {describeError(analytics.error)}
        </p>
      ) : null}
      {analytics.data ? <SpendingChart data={analytics.data} /> : null}
    </section>
  );
}

function SpendingChart({ data }: { data: Analytics }) {
  const spentDays = data.days.filter((d) => d.spent > 0);
  return (
    <>
      <p className="muted">
        {money(data.total)} spent
        {spentDays.length ? ` on ${spentDays.length} day${spentDays.length === 1 ? "" : "s"}` : ": nothing charged in these days"}.
        {Object.keys(data.by_category).length
          ? ` ${CATEGORIES.filter((c) => data.by_category[c.key])
              .map((c) => `${c.label}: ${money(data.by_category[c.key])}`)
              .join(", ")}.`
          : ""}
      </p>
      <figure className="chart spend-chart" aria-label="Daily spending by category, last 30 days" data-testid="spending-chart">
        <ResponsiveContainer width="100%" height="100%">
          <BarChart data={rows(data)} margin={{ top: 8, right: 8, bottom: 0, left: 0 }}>
            <CartesianGrid stroke="var(--border)" vertical={false} />
            <XAxis dataKey="date" tickFormatter={shortDay} stroke="var(--muted)" tick={{ fill: "var(--muted)", fontSize: 12 }} minTickGap={16} />
            <YAxis stroke="var(--muted)" tick={{ fill: "var(--muted)", fontSize: 12 }} tickFormatter={(v: number) => `$${v}`} width={56} allowDecimals />
            <Tooltip
              formatter={(value) => money(Number(value))}
              labelFormatter={(label) => shortDay(String(label))}
              contentStyle={{ background: "var(--bg)", border: "1px solid var(--border)", color: "var(--text)" }}
              cursor={{ fill: "var(--surface-2)" }}
            />
            <Legend wrapperStyle={{ color: "var(--text)" }} />
            {CATEGORIES.map((c) => (
              <Bar key={c.key} dataKey={c.key} name={c.label} stackId="spend" fill={c.colour} isAnimationActive={false} />
            ))}
          </BarChart>
        </ResponsiveContainer>
      </figure>
      <details className="wallet-details">
        <summary>Spending by day as a table</summary>
        {spentDays.length === 0 ? (
          <p className="muted">No spending in these days.</p>
        ) : (
          <TableWrap label="Spending by day table">
            <table className="data-table">
              <caption className="sr-only">Spending by day</caption>
              <thead>
                <tr>
                  <th scope="col">Day</th>
                  {CATEGORIES.map((c) => (
                    <th key={c.key} scope="col" className="num">
                      {c.label}
                    </th>
                  ))}
                  <th scope="col" className="num">
                    Total
                  </th>
                </tr>
              </thead>
              <tbody>
                {spentDays.map((d) => (
                  <tr key={d.date}>
                    <th scope="row">{shortDay(d.date)}</th>
                    {CATEGORIES.map((c) => (
                      <td key={c.key} className="num">
                        {money(d.by_category[c.key] ?? 0)}
                      </td>
                    ))}
                    <td className="num">{money(d.spent)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        )}
      </details>
    </>
  );
}
