// What went wrong with a booking, a launch or an extension, in words for the person who tried:
// the server's envelope code picks the headline, its detail says exactly why.
import { ApiError, describeError } from "../api/errors";

export interface Refusal {
  title: string;
  detail: string;
  /** Where the user can fix it, when somewhere else in the UI. */
  fix?: { to: string; label: string };
}

export function refusal(error: unknown): Refusal {
  const detail = describeError(error);
  if (!(error instanceof ApiError)) return { title: "That did not work", detail };
  switch (error.code) {
    case "BookingConflict":
      return { title: "That time is taken", detail: `${detail}. The calendar now shows what is still free: choose another time.` };
    case "InsufficientFunds":
      return { title: "Not enough money in your wallet", detail, fix: { to: "/wallet", label: "Add money to your wallet" } };
    case "BudgetExceeded":
      return { title: "Over your monthly budget", detail, fix: { to: "/wallet", label: "Review your budget" } };
    case "InvalidInput":
    case "ValidationError":
      return { title: "Check the details", detail };
    case "Conflict":
      return { title: "Not possible right now", detail };
    case "ServiceUnavailable":
      return { title: "Try again in a moment", detail };
    default:
      return { title: error.status === 0 ? "GP4U could not be reached" : "That did not work", detail };
  }
}
