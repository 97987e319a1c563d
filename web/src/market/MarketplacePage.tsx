// The home page: search the market, sort, and open an offer; or see the search grouped by GPU.
// Everything a user chooses here is in the URL (query, sort, open offer, view), so a link shows
// someone else the same thing. Prices update live while the page is open; offers picked for
// comparison gather in a tray at the bottom.
import { useCallback, useEffect, useMemo, useRef } from "react";

import { ApiError, describeError } from "../api/errors";
import type { Offer } from "../api/types";
import { count } from "../app/format";
import { WatchSearchButton } from "../alerts/WatchSearchButton";
import { CompareTray, useCompareToggle } from "./CompareTray";
import { usePicks } from "./compareStore";
import { DealsStrip } from "./DealsStrip";
import { GroupsView, gpuTermOf } from "./GroupsView";
import { LiveStatus } from "./LiveStatus";
import "./market.css";
import { OfferPanel } from "./OfferPanel";
import { OffersTable } from "./OffersTable";
import { setTerm } from "./query";
import { QueryBar } from "./QueryBar";
import { nextSort, useSearchState, type MarketView } from "./searchState";
import type { GpuGroup } from "./types";
import { useDeals } from "./useDeals";
import { useLiveMarket } from "./useLiveMarket";
import { useOffers } from "./useOffers";

export function MarketplacePage() {
  const [state, update] = useSearchState();
  const results = useOffers(state.q, state.sort);
  const { offers, fetchNextPage, hasNextPage, isFetchingNextPage } = results;
  const lastRow = useRef<HTMLElement | null>(null);
  const live = useLiveMarket(state.q, state.sort);
  const deals = useDeals(!results.isPending);
  const picks = usePicks();
  const compared = useMemo(() => new Set(picks.map((p) => p.id)), [picks]);
  const toggleCompare = useCompareToggle();

  useEffect(() => {
    document.title = state.q ? `${state.q} · GP4U marketplace` : "GP4U marketplace";
  }, [state.q]);

  const onSort = useCallback((field: string) => update({ sort: nextSort(state.sort, field) }), [state.sort, update]);
  const onSelect = useCallback(
    (offer: Offer) => {
      lastRow.current = document.activeElement instanceof HTMLElement ? document.activeElement : null;
      update({ offer: offer.id });
    },
    [update],
  );
  const onClose = useCallback(() => {
    update({ offer: null });
    lastRow.current?.focus({ preventScroll: true });
  }, [update]);
  const onNeedMore = useCallback(() => void fetchNextPage(), [fetchNextPage]);
  const openOffer = useCallback(
    (offerId: number) => {
      lastRow.current = document.activeElement instanceof HTMLElement ? document.activeElement : null;
      update({ offer: offerId });
    },
    [update],
  );
  const chooseGroup = useCallback(
    (group: GpuGroup) => update({ q: setTerm(state.q, "gpu", "=", [gpuTermOf(group)]), view: "list", offer: null }),
    [state.q, update],
  );
  const setView = (view: MarketView) => update({ view });

  const error = results.error instanceof ApiError ? results.error : null;
  const queryRejected = error !== null && error.isClientError;
  const shown = queryRejected ? [] : offers;
  const simulated = useMemo(() => shown.some((o) => o.source === "simulated"), [shown]);
  const stale = useMemo(() => shown.some((o) => o.stale), [shown]);
  const selected = state.offer;
  const summary = selected === null ? undefined : shown.find((o) => o.id === selected);
  const grouped = state.view === "groups";

  return (
    <div className={`market${selected !== null ? " has-panel" : ""}${picks.length ? " has-tray" : ""}`}>
      <section className="market-main" aria-labelledby="market-title">
        <div className="market-heading">
          <h1 id="market-title">GPU marketplace</h1>
          <div className="market-heading-tools">
            <p className="result-count" role="status">
              {results.isPending
                ? "Searching…"
                : queryRejected
                  ? "No results: fix the query."
                  : `${count(shown.length)}${hasNextPage ? "+" : ""} offer${shown.length === 1 ? "" : "s"}${results.isFetching && !isFetchingNextPage ? " · updating…" : ""}`}
            </p>
            <WatchSearchButton query={state.q} />
          </div>
        </div>
        <QueryBar serverError={queryRejected ? error : null} />
        <div className="market-toolbar">
          <div className="view-switch" role="group" aria-label="Show offers">
            <button type="button" className="button" aria-pressed={!grouped} onClick={() => setView("list")}>
              All offers
            </button>
            <button type="button" className="button" aria-pressed={grouped} onClick={() => setView("groups")}>
              Grouped by GPU
            </button>
          </div>
          <LiveStatus live={live} fetchedAt={results.dataUpdatedAt} />
        </div>
        <DealsStrip deals={deals} onOpen={openOffer} />
        {results.isError && !queryRejected ? (
          <p className="notice notice-stale" role="alert">
            Could not load offers: {describeError(results.error)}
          </p>
        ) : null}
        {simulated ? (
          <p className="notice notice-simulated">
            <strong>Simulated market.</strong> Offers marked <span className="badge badge-simulated">Simulated</span> are generated
            around published list prices because no provider data has arrived yet; they are not real offers.
          </p>
        ) : null}
        {stale ? (
          <p className="notice notice-stale">
            Offers marked <span className="badge badge-stale">Stale</span> come from providers that have not been confirmed recently:
            their prices may be out of date.
          </p>
        ) : null}
        {grouped ? (
          <GroupsView q={state.q} onChoose={chooseGroup} />
        ) : !results.isPending && !queryRejected && shown.length === 0 ? (
          <p className="empty">No offers match this search.</p>
        ) : (
          <OffersTable
            offers={shown}
            sort={state.sort}
            onSort={onSort}
            selectedId={selected}
            onSelect={onSelect}
            hasMore={Boolean(hasNextPage) && !queryRejected}
            loadingMore={isFetchingNextPage}
            onNeedMore={onNeedMore}
            compared={compared}
            onToggleCompare={toggleCompare}
            flashed={live.flashed}
            savingOf={deals.savingOf}
          />
        )}
        <CompareTray />
      </section>
      {selected !== null ? <OfferPanel offerId={selected} summary={summary} onClose={onClose} /> : null}
    </div>
  );
}

export default MarketplacePage;
