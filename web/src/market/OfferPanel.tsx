// One offer in detail: specs, price, its labels (simulated, stale, spot), the G-Score with value
// metrics, what can be done with it (book or launch; add to the comparison), and its price
// history as a chart (a lazily loaded module: recharts stays out of the first bundle) and a table. A side panel beside the table on wide screens; on
// narrow ones a full-screen modal dialog (the page behind it is inert). Escape or the close
// button closes it.
import { useQuery } from "@tanstack/react-query";
import { lazy, Suspense, useEffect, useRef, type ReactNode } from "react";

import { api } from "../api/client";
import { describeError, unwrap } from "../api/errors";
import type { Offer, OfferDetail } from "../api/types";
import { count, dateTime, gpuLabel, money, number, percent, place } from "../app/format";
import { OfferActions } from "../booking/OfferActions";
import { CompareToggle } from "./CompareTray";
import { OfferBadges } from "./OffersTable";
import { useMediaQuery } from "./useMediaQuery";

const PriceChart = lazy(() => import("./PriceChart"));

/** Below this width the panel does not fit beside the table (see styles.css). */
export const SHEET_QUERY = "(max-width: 900px)";

const SOURCES: Record<string, string> = {
  live: "Live from the provider's API",
  catalog: "The provider's published catalog (list price)",
  simulated: "Simulated market (generated around list prices)",
  host: "A GP4U host's machine",
  local: "This machine (local provider)",
};

export interface OfferPanelProps {
  offerId: number;
  /** The offer as the table has it, to show at once while the details load. */
  summary: Offer | undefined;
  onClose: () => void;
}

export function offerQuery(offerId: number) {
  return {
    queryKey: ["offer", offerId] as const,
    queryFn: ({ signal }: { signal: AbortSignal }) =>
      unwrap(api.GET("/api/v1/offers/{offer_id}", { params: { path: { offer_id: offerId } }, signal })),
    staleTime: 30_000,
  };
}

export function OfferPanel({ offerId, summary, onClose }: OfferPanelProps) {
  const heading = useRef<HTMLHeadingElement>(null);
  const detail = useQuery(offerQuery(offerId));

  useEffect(() => {
    heading.current?.focus({ preventScroll: true });
  }, [offerId]);

  const offer: Offer | OfferDetail | undefined = detail.data ?? summary;
  return (
    <PanelFrame onClose={onClose}>
      <div className="offer-panel-head">
        <h2 id="offer-panel-title" ref={heading} tabIndex={-1}>
          {offer ? `${gpuLabel(offer)} × ${offer.gpu_count}` : `Offer ${offerId}`}
        </h2>
        <button type="button" className="button button-quiet" onClick={onClose} aria-label="Close offer details">
          ×
        </button>
      </div>
      {!offer && detail.isPending ? <p role="status">Loading offer {offerId}…</p> : null}
      {detail.isError ? (
        <p className="form-error" role="alert">
          {describeError(detail.error)}
        </p>
      ) : null}
      {offer ? (
        <>
          <p className="offer-panel-badges">
            <OfferBadges offer={offer} />
          </p>
          {offer.source === "simulated" ? (
            <p className="notice notice-simulated">Simulated offer: generated around published list prices, not offered by a provider.</p>
          ) : null}
          {offer.stale ? (
            <p className="notice notice-stale">Stale: {offer.provider} has not been confirmed recently, so this price may be out of date.</p>
          ) : null}
          <div className="price-block">
            <p>
              <span className="price-big">{money(offer.price_per_gpu_hour)}</span> per GPU-hour
            </p>
            <p>
              {money(offer.price_per_hour)} per hour for {count(offer.gpu_count)} GPU{offer.gpu_count === 1 ? "" : "s"}
              {offer.spot ? " (spot)" : ""}
            </p>
          </div>
          <div className="actions offer-panel-actions">
            <CompareToggle offer={offer} />
          </div>
          <OfferActions offer={offer} />
          <GScore detail={detail.data} pending={detail.isPending} />
          <h3>Specs</h3>
          <dl className="specs">
            <dt>Provider</dt>
            <dd>{offer.provider}</dd>
            <dt>Source</dt>
            <dd>{SOURCES[offer.source] ?? offer.source}</dd>
            <dt>Instance type</dt>
            <dd className="break">{offer.instance_type}</dd>
            <dt>Region</dt>
            <dd>{[place(offer), offer.zone].filter((v) => v && v !== "—").join(" · ") || "—"}</dd>
            <dt>GPU memory</dt>
            <dd>{offer.gpu_memory_gb} GB per GPU</dd>
            <dt>vCPUs</dt>
            <dd>{number(offer.vcpus)}</dd>
            <dt>RAM</dt>
            <dd>{number(offer.memory_gb, " GB")}</dd>
            <dt>Disk</dt>
            <dd>{number(offer.disk_gb, " GB")}</dd>
            <dt>Reliability</dt>
            <dd>{percent(offer.reliability)}</dd>
            <dt>Available now</dt>
            <dd>{offer.available ? (offer.available_count ? `yes (${count(offer.available_count)})` : "yes") : "no"}</dd>
            {offer.dlperf !== null ? (
              <>
                <dt>DLPerf</dt>
                <dd>{number(offer.dlperf)}</dd>
              </>
            ) : null}
            {offer.inet_down_mbps !== null ? (
              <>
                <dt>Network</dt>
                <dd>
                  {number(offer.inet_down_mbps)} ↓ / {number(offer.inet_up_mbps)} ↑ Mbit/s
                </dd>
              </>
            ) : null}
            <dt>Updated</dt>
            <dd>{dateTime(offer.updated_at)}</dd>
            <dt>Offer id</dt>
            <dd>{offer.id}</dd>
          </dl>
          {detail.data ? (
            <>
              <h3>Price history</h3>
              <Suspense fallback={<p role="status">Loading the chart…</p>}>
                <PriceChart offer={detail.data} />
              </Suspense>
            </>
          ) : null}
          {detail.data?.history.length ? <History offer={detail.data} /> : null}
        </>
      ) : null}
    </PanelFrame>
  );
}

/** The panel's container: an <aside> beside the table, or a modal <dialog> on narrow screens. */
function PanelFrame({ onClose, children }: { onClose: () => void; children: ReactNode }) {
  const sheet = useMediaQuery(SHEET_QUERY);
  const dialog = useRef<HTMLDialogElement>(null);

  useEffect(() => {
    if (sheet && dialog.current && !dialog.current.open) dialog.current.showModal();
  }, [sheet]);

  useEffect(() => {
    if (sheet) return undefined; // the dialog handles Escape itself (its cancel event)
    const onKey = (event: globalThis.KeyboardEvent) => {
      if (event.key === "Escape") onClose();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [sheet, onClose]);

  if (sheet) {
    return (
      <dialog
        ref={dialog}
        className="offer-panel offer-sheet"
        aria-labelledby="offer-panel-title"
        onCancel={(event) => {
          event.preventDefault();
          onClose();
        }}
      >
        {children}
      </dialog>
    );
  }
  return (
    <aside className="offer-panel" aria-labelledby="offer-panel-title">
      {children}
    </aside>
  );
}

function GScore({ detail, pending }: { detail: OfferDetail | undefined; pending: boolean }) {
  if (pending) return <p role="status">Scoring…</p>;
  const value = detail?.value;
  if (!detail || !value || detail.g_score === null || detail.g_score === undefined) return null;
  return (
    <section className="gscore" aria-label="G-Score and value">
      <p>
        <span className="gscore-number">{number(detail.g_score)}</span>
        <span>
          G-Score <small>(0-100: performance and efficiency per dollar against the market, and reliability)</small>
        </span>
      </p>
      <dl className="specs">
        <dt>Per dense PFLOP-hour</dt>
        <dd>
          {money(value.usd_per_pflop_hour)}
          {value.flops_precision ? ` (${value.flops_precision})` : ""}
        </dd>
        <dt>Per GB of VRAM-hour</dt>
        <dd>{money(value.usd_per_gb_vram_hour)}</dd>
        <dt>Per million tokens (8B inference)</dt>
        <dd>{money(value.usd_per_mtok_inference)}</dd>
      </dl>
    </section>
  );
}

function History({ offer }: { offer: OfferDetail }) {
  const recent = offer.history.slice(-8).reverse();
  return (
    <>
      <h3>Recent price changes</h3>
      <table className="history">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Per GPU-hour</th>
            <th scope="col">Available</th>
          </tr>
        </thead>
        <tbody>
          {recent.map((point) => (
            <tr key={point.at}>
              <td>{dateTime(point.at)}</td>
              <td>{money(point.price_per_gpu_hour)}</td>
              <td>{point.available ? "yes" : "no"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
