// Picking offers to compare: the "compare" checkbox (in each table row and in the offer panel)
// and the tray along the bottom of the marketplace that lists the picks (at most four) and
// opens /compare?ids=… for them. A fifth pick is refused with a message saying why.
import { memo, useCallback, useState } from "react";
import { Link } from "react-router";

import type { Offer } from "../api/types";
import { money } from "../app/format";
import { useToast } from "../app/toasts";
import { compareHref, MAX_COMPARE, readPicks, togglePick, usePicks, writePicks, type Pick } from "./compareStore";

/** The message shown when a fifth offer is picked. */
export const FULL_MESSAGE = `You can compare up to ${MAX_COMPARE} offers: remove one from the comparison first.`;

export function useCompareToggle(): (offer: Offer) => void {
  const toast = useToast();
  // Reads the store at click time, not a render's snapshot: memoised rows stay correct.
  return useCallback(
    (offer: Offer) => {
      const { picks, outcome } = togglePick(readPicks(), offer);
      if (outcome === "full") {
        toast({ kind: "info", title: "Comparison is full", detail: FULL_MESSAGE });
        return;
      }
      writePicks(picks);
    },
    [toast],
  );
}

/** A labelled checkbox: "Compare". In table rows only its accessible name shows the offer. */
export const CompareCheckbox = memo(function CompareCheckbox({
  offer,
  checked,
  tabIndex,
  dataRow,
  onToggle,
}: {
  offer: Offer;
  checked: boolean;
  tabIndex?: number;
  dataRow?: number;
  onToggle: (offer: Offer) => void;
}) {
  return (
    <input
      type="checkbox"
      className="compare-check"
      checked={checked}
      tabIndex={tabIndex}
      data-check-row={dataRow}
      aria-label={`Compare offer ${offer.id}`}
      onClick={(event) => event.stopPropagation()}
      onChange={() => onToggle(offer)}
    />
  );
});

/** The offer panel's compare control. */
export function CompareToggle({ offer }: { offer: Offer }) {
  const picks = usePicks();
  const toggle = useCompareToggle();
  const checked = picks.some((p) => p.id === offer.id);
  return (
    <label className="compare-toggle">
      <input type="checkbox" checked={checked} onChange={() => toggle(offer)} />
      <span>{checked ? "In the comparison" : "Add to comparison"}</span>
    </label>
  );
}

export function CompareTray() {
  const picks = usePicks();
  const [announce, setAnnounce] = useState("");
  if (picks.length === 0) return null;
  const remove = (pick: Pick) => {
    writePicks(picks.filter((p) => p.id !== pick.id));
    setAnnounce(`Removed ${pick.label} from the comparison.`);
  };
  return (
    <section className="compare-tray" aria-labelledby="compare-tray-title">
      <h2 id="compare-tray-title" className="compare-tray-title">
        Compare <span className="muted">({picks.length} of {MAX_COMPARE})</span>
      </h2>
      {picks.length >= MAX_COMPARE ? <p className="compare-full">Full: remove an offer to add another.</p> : null}
      <ul className="compare-picks">
        {picks.map((pick) => (
          <li key={pick.id} className="compare-pick">
            <span className="compare-pick-label">
              {pick.label} <span className="muted">· {pick.provider} · {money(pick.price_per_gpu_hour)}/GPU-h</span>
            </span>
            <button type="button" className="button button-quiet" onClick={() => remove(pick)} aria-label={`Remove ${pick.label} (offer ${pick.id}) from the comparison`}>
              ×
            </button>
          </li>
        ))}
      </ul>
      <div className="actions">
        {picks.length >= 2 ? (
          <Link className="button button-primary" to={compareHref(picks.map((p) => p.id))}>
            Compare {picks.length} offers
          </Link>
        ) : (
          <span className="muted compare-hint">Pick one more offer to compare.</span>
        )}
        <button
          type="button"
          className="button"
          onClick={() => {
            writePicks([]);
            setAnnounce("Comparison cleared.");
          }}
        >
          Clear
        </button>
      </div>
      <p className="sr-only" role="status">
        {announce}
      </p>
    </section>
  );
}
