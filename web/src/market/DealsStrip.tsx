// The top arbitrage opportunities above the results: where one GPU configuration is much
// cheaper at one provider than its median across providers. Choosing one opens that cheapest
// offer's details.
import type { UseQueryResult } from "@tanstack/react-query";

import { describeError } from "../api/errors";
import { money } from "../app/format";
import { topDeals } from "./deals";
import type { Opportunity } from "./types";

const SHOWN = 4;

export function DealsStrip({ deals, onOpen }: { deals: UseQueryResult<{ items: Opportunity[] }>; onOpen: (offerId: number) => void }) {
  if (deals.isPending) return null;
  if (deals.isError) {
    return <p className="muted deals-error">Savings highlights are unavailable: {describeError(deals.error)}</p>;
  }
  const top = topDeals(deals.data.items, SHOWN);
  if (top.length === 0) return null;
  return (
    <section className="deals" aria-labelledby="deals-title">
      <h2 id="deals-title" className="deals-title">
        Biggest savings now
      </h2>
      <ul className="deals-list">
        {top.map((deal) => {
          const name = `${deal.gpu}${deal.gpu_variant ? ` ${deal.gpu_variant}` : ""} ${deal.gpu_memory_gb} GB × ${deal.gpu_count}${deal.spot ? " spot" : ""}`;
          return (
            <li key={`${deal.gpu}|${deal.gpu_memory_gb}|${deal.gpu_variant}|${deal.gpu_count}|${deal.spot}`}>
              <button type="button" className="deal" onClick={() => onOpen(deal.cheapest.offer_id)}>
                <span className="deal-name">{name}</span>
                <span>
                  {money(deal.cheapest.price_per_gpu_hour)}/GPU-h at {deal.cheapest.provider}
                </span>
                <span className="badge badge-deal">Save {Math.round(deal.savings_vs_median_pct)}% vs median {money(deal.median_price_per_gpu_hour)}</span>
              </button>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
