// "Alert me": watch the marketplace's current query for a price at or below a threshold. Opens
// the new-alert dialog prefilled with the query and a suggested threshold; a visitor who is not
// logged in is sent to log in and brought back to the same search.
import { lazy, Suspense, useState } from "react";
import { useLocation, useNavigate } from "react-router";

import { useMe } from "../auth/useMe";

// The dialog is loaded on first use: the marketplace's first bundle stays small.
const WatchDialog = lazy(async () => ({ default: (await import("./WatchDialog")).WatchDialog }));

export function WatchSearchButton({ query }: { query: string }) {
  const me = useMe();
  const navigate = useNavigate();
  const location = useLocation();
  const [open, setOpen] = useState(false);
  const onClick = () => {
    if (me.data === null) {
      navigate(`/login?next=${encodeURIComponent(`${location.pathname}${location.search}`)}`);
      return;
    }
    setOpen(true);
  };
  return (
    <>
      <button
        type="button"
        className="button"
        onClick={onClick}
        disabled={me.isPending}
        title={query ? `Alert me when offers matching “${query}” get cheaper` : "Alert me when any offer gets cheaper"}
      >
        <span aria-hidden="true">🔔</span> Alert me
      </button>
      {open ? (
        <Suspense fallback={null}>
          <WatchDialog initialQuery={query} onClose={() => setOpen(false)} />
        </Suspense>
      ) : null}
    </>
  );
}
