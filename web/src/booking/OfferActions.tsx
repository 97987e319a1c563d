// What a renter can do with an offer, shown in the offer panel: book a time block (offers that
// take bookings) or launch now (on-demand offers). Not built yet (issue 9).
import type { Offer } from "../api/types";

export function OfferActions(_props: { offer: Offer }) {
  return null;
}
