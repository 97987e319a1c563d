// The costs report's days as a bar chart (UTC days, oldest first), with the figures as a table
// behind a disclosure. recharts is only ever loaded with the (lazy) costs page.
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

import { money } from "../app/format";
import { TableWrap } from "../app/TableWrap";
import type { CostReport } from "./types";

const dayLabel = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", timeZone: "UTC" });

function shortDay(iso: string): string {
  return dayLabel.format(new Date(`${iso}T00:00:00Z`));
}

export function DailyCostChart({ report }: { report: CostReport }) {
  const costly = [...report.daily].reverse().filter((d) => d.cost > 0);
  return (
    <>
      <figure className="chart spend-chart" aria-label={`Session cost per UTC day, last ${report.days} days`} data-testid="daily-cost-chart">
        <ResponsiveContainer width="100%" height="100%">
          <BarChart data={report.daily} margin={{ top: 8, right: 8, bottom: 0, left: 0 }}>
            <CartesianGrid stroke="var(--border)" vertical={false} />
            <XAxis dataKey="date" tickFormatter={shortDay} stroke="var(--muted)" tick={{ fill: "var(--muted)", fontSize: 12 }} minTickGap={16} />
            <YAxis stroke="var(--muted)" tick={{ fill: "var(--muted)", fontSize: 12 }} tickFormatter={(v: number) => `$${v}`} width={56} />
            <Tooltip
              formatter={(value) => money(Number(value))}
              labelFormatter={(label) => shortDay(String(label))}
              contentStyle={{ background: "var(--bg)", border: "1px solid var(--border)", color: "var(--text)" }}
              cursor={{ fill: "var(--surface-2)" }}
            />
            <Bar dataKey="cost" name="Session cost" fill="var(--accent)" isAnimationActive={false} />
          </BarChart>
        </ResponsiveContainer>
      </figure>
      <details className="wallet-details">
        <summary>Cost by day as a table</summary>
        {costly.length === 0 ? (
          <p className="muted">No session cost on any of these days.</p>
        ) : (
          <TableWrap label="Cost by day table">
            <table className="data-table">
              <caption className="sr-only">Cost by day (UTC), newest first; days without cost left out</caption>
              <thead>
                <tr>
                  <th scope="col">Day (UTC)</th>
                  <th scope="col" className="num">
                    Cost
                  </th>
                </tr>
              </thead>
              <tbody>
                {costly.map((d) => (
                  <tr key={d.date}>
                    <th scope="row">{shortDay(d.date)}</th>
                    <td className="num">{money(d.cost)}</td>
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
