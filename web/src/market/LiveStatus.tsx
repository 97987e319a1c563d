// Whether prices are live, when they last changed, and "N updates: refresh" when changes would
// move rows or change the results (they are never applied under the user).
import type { LiveMarket } from "./useLiveMarket";

const time = new Intl.DateTimeFormat(undefined, { timeStyle: "medium" });

/** `fetchedAt`: when the results on screen were loaded (ms), shown until a live change arrives. */
export function LiveStatus({ live, fetchedAt }: { live: LiveMarket; fetchedAt: number }) {
  const waiting = live.reset || live.pending > 0;
  const last = live.updatedAt ?? (fetchedAt ? new Date(fetchedAt) : null);
  return (
    <div className="live-status">
      <p className="live-note" role="status">
        <span className={`live-dot${live.connected ? " is-live" : ""}`} aria-hidden="true" />
        {live.connected ? "Live prices" : "Live prices paused"}
        {last ? (
          <>
            {" · "}updated <time dateTime={last.toISOString()}>{time.format(last)}</time>
          </>
        ) : null}
      </p>
      {waiting ? (
        <button type="button" className="button button-primary live-refresh" onClick={live.refresh}>
          {live.reset ? "Market changed: refresh" : `${live.pending} update${live.pending === 1 ? "" : "s"}: refresh`}
        </button>
      ) : null}
    </div>
  );
}
