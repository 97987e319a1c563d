// What a renter can do with an offer, shown in the offer panel: "Book" for a GP4U host's machine
// (booked by time), "Launch now" for an on-demand offer this server can launch, and for anything
// else a short reason why neither. A visitor without a login is sent to log in and back. The
// dialogs load on demand, so the marketplace's first bundle stays small.
import { lazy, Suspense, useState } from "react";
import { Link, useLocation, useNavigate } from "react-router";

import type { Offer } from "../api/types";
import { gpuLabel } from "../app/format";
import { useToast } from "../app/toasts";
import { useMe } from "../auth/useMe";
import { useProviders } from "./queries";
import type { ProviderInfo, Reservation } from "./types";

const BookDialog = lazy(async () => ({ default: (await import("./BookDialog")).BookDialog }));
const LaunchDialog = lazy(async () => ({ default: (await import("./LaunchDialog")).LaunchDialog }));

export type OfferAction = { kind: "book"; machineId: number } | { kind: "launch" } | { kind: "none"; reason: string } | { kind: "unknown" };

/** Whether an offer is booked, launched, or neither (and why), given the server's providers. */
export function actionFor(offer: Offer, providers: readonly ProviderInfo[] | undefined): OfferAction {
  if (offer.source === "host") {
    const machineId = Number(offer.offer_ref);
    return offer.provider === "gp4u" && Number.isInteger(machineId) && machineId > 0
      ? { kind: "book", machineId }
      : { kind: "none", reason: "This host offer does not name its machine, so it cannot be booked." };
  }
  if (offer.source === "simulated") {
    return { kind: "none", reason: "Simulated offer: it is here to compare prices and cannot be booked or launched." };
  }
  if (offer.source === "catalog") {
    return { kind: "none", reason: "Catalog list price: for comparing only. Search live offers (source=live) to launch." };
  }
  if (!providers) return { kind: "unknown" };
  const adapter = providers.find((p) => p.source === offer.source && p.provider === offer.provider);
  if (!adapter) return { kind: "none", reason: `${offer.provider} is not set up on this server, so its offers cannot be launched here.` };
  const launch = adapter.capabilities.launch;
  if (launch !== "yes") return { kind: "none", reason: `${offer.provider} offers cannot be launched here: ${launch ?? "no launch support"}.` };
  if (!offer.available) return { kind: "none", reason: "Not available right now: the provider has no capacity for it." };
  return { kind: "launch" };
}

export function OfferActions({ offer }: { offer: Offer }) {
  const me = useMe();
  const location = useLocation();
  const navigate = useNavigate();
  const toast = useToast();
  const needsProviders = !["host", "simulated", "catalog"].includes(offer.source);
  const providers = useProviders(needsProviders);
  const [open, setOpen] = useState<"book" | "launch" | null>(null);
  const [booked, setBooked] = useState<Reservation | null>(null);
  const action = actionFor(offer, providers.data?.items);
  const what = `${gpuLabel(offer)} × ${offer.gpu_count}`;

  const start = (kind: "book" | "launch") => {
    if (me.data === null) {
      navigate(`/login?next=${encodeURIComponent(`${location.pathname}${location.search}`)}`);
      return;
    }
    setOpen(kind);
  };

  if (action.kind === "unknown") {
    return (
      <section className="offer-actions" aria-label="Rent this offer">
        <p className="muted" role="status">
          {providers.isError ? "Could not check whether this offer can be launched." : "Checking whether this offer can be launched…"}
        </p>
      </section>
    );
  }
  if (action.kind === "none") {
    return (
      <section className="offer-actions" aria-label="Rent this offer">
        <p className="muted">{action.reason}</p>
      </section>
    );
  }
  const loggedOut = me.data === null;
  return (
    <section className="offer-actions" aria-label="Rent this offer">
      <div className="actions">
        {action.kind === "book" ? (
          <button type="button" className="button button-primary" onClick={() => start("book")}>
            {loggedOut ? "Log in to book" : "Book"}
          </button>
        ) : (
          <button type="button" className="button button-primary" onClick={() => start("launch")}>
            {loggedOut ? "Log in to launch" : "Launch now"}
          </button>
        )}
      </div>
      <p className="muted">
        {action.kind === "book"
          ? "A GP4U host's machine: book a time block; the whole booking is held on your wallet."
          : "On demand: runs as soon as the provider starts it; you pay per minute of running time."}
      </p>
      {booked ? (
        <p className="notice" role="status">
          Booked: <Link to={`/reservations/${booked.id}`}>reservation {booked.id}</Link>
        </p>
      ) : null}
      <Suspense fallback={open ? <p role="status">Opening…</p> : null}>
        {open === "book" && action.kind === "book" ? (
          <BookDialog
            machineId={action.machineId}
            what={what}
            onClose={() => setOpen(null)}
            onBooked={(reservation) => {
              setOpen(null);
              setBooked(reservation);
              toast({
                kind: "success",
                title: `Booked: reservation ${reservation.id}`,
                detail: `${new Date(reservation.start).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" })}; see My GPUs → Reservations.`,
              });
            }}
          />
        ) : null}
        {open === "launch" ? <LaunchDialog offer={offer} what={what} onClose={() => setOpen(null)} /> : null}
      </Suspense>
    </section>
  );
}
