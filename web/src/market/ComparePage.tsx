// Compare 2-4 offers side by side (/compare?ids=1,2,3, a shareable link): price, value metrics,
// G-Score and specs from GET /api/v1/offers/compare, the best offer in each row marked. An offer
// can be removed from the comparison or opened back in the marketplace.
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useEffect } from "react";
import { Link, useSearchParams } from "react-router";

import { api } from "../api/client";
import { describeError, unwrap } from "../api/errors";
import type { Compared, Offer } from "../api/types";
import { gpuLabel } from "../app/format";
import { useToast } from "../app/toasts";
import { OfferBadges } from "./OffersTable";
import { bestOf, COMPARE_ROWS } from "./compareRows";
import { parseIds, readPicks, writePicks } from "./compareStore";
import "./market.css";

export function ComparePage() {
  const [params, setParams] = useSearchParams();
  const ids = parseIds(params.get("ids"));
  const toast = useToast();
  const compared = useQuery({
    queryKey: ["compare", ids.join(",")],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/offers/compare", { params: { query: { ids: ids.join(",") } }, signal })),
    enabled: ids.length >= 2,
    placeholderData: keepPreviousData,
    staleTime: 30_000,
  });

  useEffect(() => {
    document.title = "Compare offers · GP4U";
  }, []);

  const remove = (id: number) => {
    const rest = ids.filter((i) => i !== id);
    setParams(rest.length ? { ids: rest.join(",") } : {});
    writePicks(readPicks().filter((p) => p.id !== id));
    toast({ kind: "success", title: `Offer ${id} removed from the comparison` });
  };

  return (
    <section className="page compare-page" aria-labelledby="compare-title">
      <div className="page-head">
        <h1 id="compare-title">Compare offers</h1>
        <Link className="button" to="/">
          Back to the marketplace
        </Link>
      </div>
      {ids.length < 2 ? (
        <div className="empty">
          <p>Pick two to four offers in the marketplace (the “compare” box on each row) to see them side by side here.</p>
          {ids.length === 1 ? (
            <p>
              Only offer {ids[0]} is picked. <Link to={`/?offer=${ids[0]}`}>Open it in the marketplace</Link>
            </p>
          ) : null}
        </div>
      ) : compared.isPending ? (
        <p role="status">Comparing {ids.length} offers…</p>
      ) : compared.isError ? (
        <div className="notice notice-stale" role="alert">
          <p>Could not compare these offers: {describeError(compared.error)}</p>
          <div className="actions">
            {ids.map((id) => (
              <button key={id} type="button" className="button" onClick={() => remove(id)}>
                Remove offer {id}
              </button>
            ))}
          </div>
        </div>
      ) : (
        <CompareTable items={compared.data.items} onRemove={remove} />
      )}
    </section>
  );
}

function CompareTable({ items, onRemove }: { items: Compared[]; onRemove: (id: number) => void }) {
  // The compare endpoint returns each offer exactly as the search does.
  const offers = items.map((item) => item.offer as unknown as Offer);
  return (
    <div className="table-wrap compare-wrap">
      <table className="data-table compare-table">
        <caption className="sr-only">
          {items.length} offers side by side; the best value in each row is marked “best”.
        </caption>
        <thead>
          <tr>
            <td className="compare-corner" />
            {offers.map((offer) => (
              <th key={offer.id} scope="col" className="compare-col">
                <span className="compare-name">
                  {gpuLabel(offer)} × {offer.gpu_count}
                </span>
                <span className="muted"> · offer {offer.id}</span>
                <span className="compare-badges">
                  <OfferBadges offer={offer} />
                </span>
                <span className="actions compare-col-actions">
                  <Link className="button" to={`/?offer=${offer.id}`} aria-label={`Open offer ${offer.id} in the marketplace`}>
                    Open
                  </Link>
                  <button type="button" className="button button-quiet" onClick={() => onRemove(offer.id)} aria-label={`Remove offer ${offer.id} from the comparison`}>
                    Remove
                  </button>
                </span>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {COMPARE_ROWS.map((row, rowIndex) => {
            const best = bestOf(row, items);
            const heading =
              rowIndex === 0 || COMPARE_ROWS[rowIndex - 1]!.group !== row.group ? (
                <tr key={`group-${row.group}`} className="compare-group">
                  <th scope="colgroup" colSpan={items.length + 1}>
                    {row.group}
                  </th>
                </tr>
              ) : null;
            return [
              heading,
              <tr key={row.label}>
                <th scope="row">{row.label}</th>
                {items.map((item, index) => (
                  <td key={offers[index]!.id} className={best.has(index) ? "num is-best" : "num"}>
                    {row.show(item)}
                    {best.has(index) ? <span className="badge badge-best">best</span> : null}
                  </td>
                ))}
              </tr>,
            ];
          })}
        </tbody>
      </table>
    </div>
  );
}
