// The price-history chart of one offer (its own $/GPU-hour as a step line) against the market's
// minimum and median for the same GPU over the same days. recharts is large, so this module is
// only ever imported lazily (by the offer panel): it is never part of the first bundle.
import { useQuery } from "@tanstack/react-query";
import { useMemo } from "react";
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

import { api } from "../api/client";
import { unwrap } from "../api/errors";
import type { OfferDetail } from "../api/types";
import { money } from "../app/format";
import { chartPoints, CHART_DAYS } from "./chartPoints";
import type { MarketHistory } from "./types";

const day = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });
const hour = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
const DAY_MS = 86_400_000;
const when = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export default function PriceChart({ offer }: { offer: OfferDetail }) {
  const market = useQuery({
    queryKey: ["price-history", offer.gpu, offer.gpu_memory_gb, offer.spot],
    // The endpoint can also answer CSV, so its generated type is loose: this is the JSON form.
    queryFn: async ({ signal }): Promise<MarketHistory> =>
      (await unwrap(
        api.GET("/api/v1/prices/history", {
          params: { query: { gpu: `${offer.gpu}-${offer.gpu_memory_gb}GB`, spot: offer.spot, days: CHART_DAYS, resolution: "1h" } },
          signal,
        }),
      )) as MarketHistory,
    staleTime: 5 * 60_000,
  });
  const now = useMemo(() => Date.now(), [offer]);
  const points = useMemo(() => chartPoints(offer, market.data?.items ?? [], now), [offer, market.data, now]);
  // The axis spans the data there is (a new offer has only minutes of history), up to 7 days.
  const span = points.length ? points[points.length - 1]!.at - points[0]!.at : 0;
  const tick = span > 2 * DAY_MS ? day : hour;
  const few = (key: "offer" | "min" | "median") => points.filter((p) => p[key] !== undefined).length <= 2;
  const lowest = Math.min(...points.map((p) => p.offer ?? Infinity));
  const highest = Math.max(...points.map((p) => p.offer ?? -Infinity));
  const label =
    `Price of this offer per GPU-hour over the last ${CHART_DAYS} days` +
    (Number.isFinite(lowest) ? `: between ${money(lowest)} and ${money(highest)}, now ${money(offer.price_per_gpu_hour)}` : "") +
    (points.some((p) => p.median !== undefined)
      ? `, drawn against the market's minimum and median for ${offer.gpu} ${offer.gpu_memory_gb} GB.`
      : ".");

  return (
    <figure className="price-chart">
      <div className="chart" role="img" aria-label={label}>
        <ResponsiveContainer width="100%" height="100%">
          <LineChart data={points} margin={{ top: 8, right: 8, bottom: 0, left: 0 }}>
            <CartesianGrid stroke="var(--border)" strokeDasharray="3 3" />
            <XAxis
              dataKey="at"
              type="number"
              scale="time"
              domain={["dataMin", "dataMax"]}
              tickFormatter={(at: number) => tick.format(at)}
              stroke="var(--muted)"
              tick={{ fill: "var(--muted)", fontSize: 12 }}
              minTickGap={24}
            />
            <YAxis
              width={52}
              stroke="var(--muted)"
              tick={{ fill: "var(--muted)", fontSize: 12 }}
              tickFormatter={(v: number) => `$${v.toFixed(2)}`}
              domain={["auto", "auto"]}
            />
            <Tooltip
              contentStyle={{ background: "var(--bg)", border: "1px solid var(--border)", color: "var(--text)" }}
              labelFormatter={(at) => when.format(Number(at))}
              formatter={(value) => money(Number(value))}
            />
            <Legend wrapperStyle={{ color: "var(--text)", fontSize: 12 }} />
            <Line name="This offer" dataKey="offer" type="stepAfter" stroke="var(--accent)" strokeWidth={2} dot={few("offer")} connectNulls isAnimationActive={false} />
            {points.some((p) => p.median !== undefined || p.min !== undefined) ? (
              <>
                <Line name="Market median" dataKey="median" stroke="var(--muted)" strokeDasharray="5 4" dot={few("median")} connectNulls isAnimationActive={false} />
                <Line name="Market minimum" dataKey="min" stroke="var(--ok-text)" strokeDasharray="2 3" dot={few("min")} connectNulls isAnimationActive={false} />
              </>
            ) : null}
          </LineChart>
        </ResponsiveContainer>
      </div>
      <figcaption className="muted">
        {market.isError ? "Market prices could not be loaded; showing this offer only." : `Last ${CHART_DAYS} days, $ per GPU-hour.`}
      </figcaption>
    </figure>
  );
}
