// The offers table: sortable columns (the server sorts; the sort lives in the URL) and
// virtualised rows, so 10,000+ offers scroll smoothly: only the rows in view (plus a margin) are
// in the DOM. More pages are fetched as the end comes into view. Keyboard: Tab reaches the
// current row; Up/Down, Page Up/Down, Home/End move between rows; Enter opens an offer; Space on
// the row's "compare" checkbox adds it to the comparison. Live price changes flash briefly
// (flashed), and offers well below their configuration's median carry a "save N%" badge.
import { useVirtualizer } from "@tanstack/react-virtual";
import { memo, useCallback, useEffect, useMemo, useRef, useState, type KeyboardEvent, type ReactNode } from "react";

import type { Offer } from "../api/types";
import { age, count, gpuLabel, money, number, percent, place } from "../app/format";
import { CompareCheckbox } from "./CompareTray";
import { parseSort } from "./searchState";
import { useWidth } from "./useWidth";

const ROW_HEIGHT = 44;
const HEADER_HEIGHT = 44;
/** Ask for the next page when the last rendered row is this close to the end. */
const PREFETCH_ROWS = 300;
/** Table widths (px) from which the "md" and "lg" columns fit. */
const WIDTHS = { md: 800, lg: 1200 } as const;

interface Column {
  id: string;
  label: string;
  /** The API field this column sorts by, if it is sortable. */
  sort?: string;
  width: string;
  align?: "end";
  /** Shown only when the table is at least this wide (see WIDTHS). */
  from?: "md" | "lg";
  cell: (offer: Offer, saving: number | null) => ReactNode;
}

/** "Save 43% vs median": the offer is that much below the median $/GPU-hour of its configuration. */
export function SavingBadge({ saving }: { saving: number }) {
  const pct = Math.round(saving * 100);
  return (
    <span className="badge badge-deal" title={`${pct}% below the median price per GPU-hour of the same GPU configuration across providers`}>
      Save {pct}%<span className="sr-only"> vs the median</span>
    </span>
  );
}

export function OfferBadges({ offer }: { offer: Offer }) {
  return (
    <>
      {offer.source === "simulated" ? (
        <span className="badge badge-simulated" title="Generated around published list prices; not a live provider offer">
          Simulated
        </span>
      ) : null}
      {offer.stale ? (
        <span className="badge badge-stale" title="The provider has not been confirmed recently; the price may be out of date">
          Stale
        </span>
      ) : null}
      {offer.spot ? (
        <span className="badge badge-spot" title="Spot / interruptible price: the machine can be taken back">
          Spot
        </span>
      ) : null}
      {!offer.available ? <span className="badge badge-stale">Unavailable</span> : null}
    </>
  );
}

const COLUMNS: readonly Column[] = [
  { id: "compare", label: "Compare", width: "3.25rem", cell: () => null },
  { id: "gpu", label: "GPU", width: "minmax(10.5rem, 1.6fr)", cell: () => null },
  { id: "gpu_count", label: "GPUs", sort: "gpu_count", width: "4.5rem", align: "end", from: "md", cell: (o) => count(o.gpu_count) },
  {
    id: "price_per_gpu_hour",
    label: "Per GPU-hour",
    sort: "price_per_gpu_hour",
    width: "minmax(8.5rem, 0.9fr)",
    align: "end",
    cell: (o, saving) => (
      <span className="price-cell">
        {saving !== null ? <SavingBadge saving={saving} /> : null}
        <strong className="price-value">{money(o.price_per_gpu_hour)}</strong>
      </span>
    ),
  },
  { id: "price_per_hour", label: "Per hour", sort: "price_per_hour", width: "minmax(6rem, 0.8fr)", align: "end", from: "md", cell: (o) => money(o.price_per_hour) },
  {
    id: "provider",
    label: "Provider",
    width: "minmax(12rem, 1.6fr)",
    from: "md",
    cell: (o) => (
      <span className="provider-cell">
        <span className="provider-name" title={o.provider}>{o.provider}</span>
        <OfferBadges offer={o} />
      </span>
    ),
  },
  { id: "region", label: "Region", width: "minmax(7rem, 1fr)", from: "lg", cell: (o) => <span className="truncate">{place(o)}</span> },
  { id: "vcpus", label: "vCPUs", sort: "vcpus", width: "4.5rem", align: "end", from: "lg", cell: (o) => number(o.vcpus) },
  { id: "memory_gb", label: "RAM", sort: "memory_gb", width: "6.5rem", align: "end", from: "lg", cell: (o) => number(o.memory_gb, " GB") },
  { id: "reliability", label: "Reliability", sort: "reliability", width: "8.25rem", align: "end", from: "md", cell: (o) => percent(o.reliability) },
  { id: "updated_at", label: "Updated", sort: "updated_at", width: "7.5rem", align: "end", from: "lg", cell: (o) => age(o.updated_at) },
];

export interface OffersTableProps {
  offers: Offer[];
  sort: string;
  onSort: (field: string) => void;
  selectedId: number | null;
  onSelect: (offer: Offer) => void;
  hasMore: boolean;
  loadingMore: boolean;
  onNeedMore: () => void;
  /** Offers in the comparison. */
  compared: ReadonlySet<number>;
  onToggleCompare: (offer: Offer) => void;
  /** Offers whose price just changed (live updates): their price flashes. */
  flashed: ReadonlySet<number>;
  /** How far below its configuration's median an offer is (0-1), or null. */
  savingOf: (offer: Offer) => number | null;
}

export function OffersTable({
  offers,
  sort,
  onSort,
  selectedId,
  onSelect,
  hasMore,
  loadingMore,
  onNeedMore,
  compared,
  onToggleCompare,
  flashed,
  savingOf,
}: OffersTableProps) {
  const wrapRef = useRef<HTMLDivElement>(null);
  const width = useWidth(wrapRef);
  const columns = useMemo(() => COLUMNS.filter((c) => !c.from || width >= WIDTHS[c.from]), [width]);
  // Narrow tables (phones) fold the GPU count and the provider into the GPU column.
  const compact = !columns.some((c) => c.id === "provider");
  const template = columns.map((c) => c.width).join(" ");
  const order = parseSort(sort);

  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: offers.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
    scrollMargin: HEADER_HEIGHT,
    scrollPaddingStart: HEADER_HEIGHT,
  });
  const items = virtualizer.getVirtualItems();

  // The row that Tab reaches (roving tab index), and a row waiting to be focused once rendered.
  const [active, setActive] = useState(0);
  const [pendingFocus, setPendingFocus] = useState<number | null>(null);
  const activeIndex = Math.min(active, Math.max(0, offers.length - 1));

  useEffect(() => {
    const selected = selectedId === null ? -1 : offers.findIndex((o) => o.id === selectedId);
    if (selected >= 0) setActive(selected);
  }, [selectedId, offers]);

  // A new search starts at the top.
  const first = offers[0]?.id;
  useEffect(() => {
    scrollRef.current?.scrollTo({ top: 0 });
    setActive(0);
  }, [first, sort]);

  const lastRendered = items.length ? items[items.length - 1]!.index : -1;
  useEffect(() => {
    if (hasMore && !loadingMore && lastRendered >= offers.length - PREFETCH_ROWS) onNeedMore();
  }, [hasMore, loadingMore, lastRendered, offers.length, onNeedMore]);

  useEffect(() => {
    if (pendingFocus === null) return;
    const button = scrollRef.current?.querySelector<HTMLButtonElement>(`[data-row="${pendingFocus}"]`);
    if (button) {
      button.focus({ preventScroll: true });
      setPendingFocus(null);
    }
  }, [pendingFocus, items]);

  const moveTo = useCallback(
    (index: number) => {
      const target = Math.max(0, Math.min(offers.length - 1, index));
      setActive(target);
      virtualizer.scrollToIndex(target, { align: "auto" });
      setPendingFocus(target);
    },
    [offers.length, virtualizer],
  );

  const pick = useCallback(
    (offer: Offer, index: number) => {
      setActive(index);
      onSelect(offer);
    },
    [onSelect],
  );

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const data = (event.target as HTMLElement).dataset;
    const row = data.row ?? data.checkRow;
    if (row === undefined) return;
    const index = Number(row);
    const page = Math.max(1, Math.floor((scrollRef.current?.clientHeight ?? 400) / ROW_HEIGHT) - 1);
    const moves: Record<string, number> = {
      ArrowDown: index + 1,
      ArrowUp: index - 1,
      PageDown: index + page,
      PageUp: index - page,
      Home: 0,
      End: offers.length - 1,
    };
    const target = moves[event.key];
    if (target === undefined) return;
    event.preventDefault();
    moveTo(target);
  };

  return (
    <div className="offers-table-wrap" ref={wrapRef}>
      <div
        ref={scrollRef}
        className="offers-scroll"
        role="table"
        aria-label="Offers"
        aria-rowcount={hasMore ? -1 : offers.length + 1}
        aria-busy={loadingMore}
      >
        <div role="rowgroup" className="offers-head">
          <div role="row" aria-rowindex={1} className="offers-row" style={{ gridTemplateColumns: template, height: HEADER_HEIGHT }}>
            {columns.map((column) => {
              const sorted = column.sort !== undefined && order.field === column.sort;
              return (
                <div
                  key={column.id}
                  role="columnheader"
                  className={`offers-cell${column.align ? " align-end" : ""}`}
                  aria-sort={sorted ? (order.desc ? "descending" : "ascending") : undefined}
                >
                  {column.id === "compare" ? (
                    <span className="compare-head" title="Compare up to 4 offers">
                      <span aria-hidden="true">⇆</span>
                      <span className="sr-only">{column.label}</span>
                    </span>
                  ) : column.sort ? (
                    <button type="button" className="sort-button" onClick={() => onSort(column.sort!)}>
                      {column.label}
                      <span aria-hidden="true" className="sort-mark">
                        {sorted ? (order.desc ? "▼" : "▲") : "↕"}
                      </span>
                    </button>
                  ) : (
                    column.label
                  )}
                </div>
              );
            })}
          </div>
        </div>
        <div role="rowgroup" className="offers-body" style={{ height: virtualizer.getTotalSize() - HEADER_HEIGHT }} onKeyDown={onKeyDown}>
          {items.map((item) => {
            const offer = offers[item.index]!;
            return (
              <OfferRow
                key={offer.id}
                offer={offer}
                index={item.index}
                top={item.start - HEADER_HEIGHT}
                columns={columns}
                template={template}
                compact={compact}
                selected={offer.id === selectedId}
                tabbable={item.index === activeIndex}
                onPick={pick}
                onFocusRow={setActive}
                compared={compared.has(offer.id)}
                onToggleCompare={onToggleCompare}
                flash={flashed.has(offer.id)}
                saving={savingOf(offer)}
              />
            );
          })}
        </div>
      </div>
      <p className="offers-foot" aria-live="polite">
        {loadingMore ? "Loading more offers…" : hasMore ? `${count(offers.length)} offers loaded; more load as you scroll.` : null}
      </p>
    </div>
  );
}

interface OfferRowProps {
  offer: Offer;
  index: number;
  top: number;
  columns: readonly Column[];
  template: string;
  compact: boolean;
  selected: boolean;
  tabbable: boolean;
  onPick: (offer: Offer, index: number) => void;
  onFocusRow: (index: number) => void;
  compared: boolean;
  onToggleCompare: (offer: Offer) => void;
  flash: boolean;
  saving: number | null;
}

/** One offer's row. Memoised: while scrolling, rows already on screen are not rendered again. */
const OfferRow = memo(function OfferRow({
  offer,
  index,
  top,
  columns,
  template,
  compact,
  selected,
  tabbable,
  onPick,
  onFocusRow,
  compared,
  onToggleCompare,
  flash,
  saving,
}: OfferRowProps) {
  return (
    <div
      role="row"
      aria-rowindex={index + 2}
      aria-current={selected ? "true" : undefined}
      data-offer-id={offer.id}
      className={`offers-row offers-data-row${selected ? " is-selected" : ""}${flash ? " is-flashing" : ""}`}
      style={{ gridTemplateColumns: template, height: ROW_HEIGHT, transform: `translateY(${top}px)` }}
      onClick={() => onPick(offer, index)}
    >
      {columns.map((column) => (
        <div
          key={column.id}
          role="cell"
          className={`offers-cell${column.align ? " align-end" : ""}${compact && column.id === "gpu" ? " stacked" : ""}`}
          data-column={column.id}
        >
          {column.id === "compare" ? (
            <CompareCheckbox offer={offer} checked={compared} tabIndex={tabbable ? 0 : -1} dataRow={index} onToggle={onToggleCompare} />
          ) : column.id === "gpu" ? (
            <>
              <button type="button" className="row-button" data-row={index} tabIndex={tabbable ? 0 : -1} onFocus={() => onFocusRow(index)}>
                {compact ? `${offer.gpu_count} × ` : ""}
                {gpuLabel(offer)}
                <span className="sr-only">, offer {offer.id}: show details</span>
              </button>
              {compact ? (
                <span className="row-sub">
                  <span className="provider-name">{offer.provider}</span>
                  <OfferBadges offer={offer} />
                </span>
              ) : null}
            </>
          ) : (
            column.cell(offer, saving)
          )}
        </div>
      ))}
    </div>
  );
});
