// This area's pages for the router (router.tsx): public ones anyone may open, protected ones
// behind a login. Pages load on demand, in their own chunks.
import type { RouteObject } from "react-router";

export const publicRoutes: RouteObject[] = [

];

export const protectedRoutes: RouteObject[] = [
  { path: "sessions", lazy: async () => ({ Component: (await import("./SessionsPage")).SessionsPage }) },
  { path: "sessions/:sessionId", lazy: async () => ({ Component: (await import("./SessionPage")).SessionPage }) },
  { path: "reservations", lazy: async () => ({ Component: (await import("./ReservationsPage")).ReservationsPage }) },
  { path: "reservations/:reservationId", lazy: async () => ({ Component: (await import("./ReservationPage")).ReservationPage }) },
];
